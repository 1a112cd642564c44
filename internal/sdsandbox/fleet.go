package sdsandbox

import "fmt"

// FleetUnits is the benchmark host shared by the live and check
// benchmarks: services oneshot services svc-NNNN.service, the first half
// enabled and active, the second half triggered by services/2 enabled
// OnCalendar=daily timers tmr-NNNN.timer.
func FleetUnits(services int) []Unit {
	half := services / 2
	units := make([]Unit, 0, services+half)
	for i := range services {
		u := Unit{
			Name:    fmt.Sprintf("svc-%04d.service", i),
			Content: "[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\n",
		}
		if i < half {
			u.WantedBy = []string{"multi-user.target"}
		}
		units = append(units, u)
	}
	for i := range half {
		units = append(units, Unit{
			Name:     fmt.Sprintf("tmr-%04d.timer", i),
			Content:  fmt.Sprintf("[Timer]\nOnCalendar=daily\nUnit=svc-%04d.service\n", half+i),
			WantedBy: []string{"timers.target"},
		})
	}
	return units
}
