package main

import (
	"os"
	"time"

	"github.com/driftcheck/driftcheck/internal/checkmetrics"
	"github.com/driftcheck/driftcheck/internal/drift"
)

// writeCheckMetrics writes the check's metrics file when --metrics-file is
// set; report is nil when the check could not run (verdict "error").
// The host label is this machine's name.
func writeCheckMetrics(path string, report *drift.Report, started time.Time) error {
	if path == "" {
		return nil
	}
	host, _ := os.Hostname()
	return checkmetrics.Write(path, checkmetrics.Run{
		Report: report, Host: host, Started: started, Duration: time.Since(started),
	})
}
