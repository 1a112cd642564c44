package lint

import (
	"fmt"
	"io"

	"github.com/driftcheck/driftcheck/internal/termsafe"
)

// Schema identifies the JSON report format.
const Schema = "driftcheck.lint/v1"

// Report is one lint run's result, as rendered in every format.
type Report struct {
	Rev      string    `json:"rev"` // resolved commit hash
	Findings []Finding `json:"findings"`
}

// WriteText writes one line per finding: file:line: kind: message. Every
// string may come from the repository, so it is escaped for the terminal.
func (r *Report) WriteText(w io.Writer) error {
	for _, f := range r.Findings {
		loc := termsafe.String(f.File)
		if f.Line > 0 {
			loc = fmt.Sprintf("%s:%d", loc, f.Line)
		}
		if f.Col > 0 {
			loc = fmt.Sprintf("%s:%d", loc, f.Col)
		}
		kind := string(f.Kind)
		if f.Host != "" {
			kind += " (host " + termsafe.String(f.Host) + ")"
		}
		if _, err := fmt.Fprintf(w, "%s: %s: %s\n", loc, kind, termsafe.String(f.Message)); err != nil {
			return fmt.Errorf("write lint report: %w", err)
		}
	}
	return nil
}

// WriteJSON writes {"schema":…,"rev":…,"findings":[…]}.
func (r *Report) WriteJSON(w io.Writer) error {
	findings := r.Findings
	if findings == nil {
		findings = []Finding{} // an empty list, not null: consumers iterate
	}
	out := struct {
		Schema   string    `json:"schema"`
		Rev      string    `json:"rev"`
		Findings []Finding `json:"findings"`
	}{Schema, r.Rev, findings}
	enc := termsafe.NewJSONEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("write lint report: %w", err)
	}
	return nil
}

// SARIF 2.1.0, the subset code-scanning services read.
const (
	sarifVersion = "2.1.0"
	sarifSchema  = "https://json.schemastore.org/sarif-2.1.0.json"
	toolURI      = "https://github.com/driftcheck/driftcheck"
)

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool                     sarifTool             `json:"tool"`
	Results                  []sarifResult         `json:"results"`
	VersionControlProvenance []sarifVersionControl `json:"versionControlProvenance,omitempty"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID               string       `json:"id"`
	ShortDescription sarifMessage `json:"shortDescription"`
	HelpURI          string       `json:"helpUri"`
}

type sarifMessage struct {
	Text string `json:"text"`
}

type sarifResult struct {
	RuleID    string          `json:"ruleId"`
	RuleIndex int             `json:"ruleIndex"`
	Level     string          `json:"level"`
	Message   sarifMessage    `json:"message"`
	Locations []sarifLocation `json:"locations"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical `json:"physicalLocation"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           *sarifRegion  `json:"region,omitempty"`
}

type sarifArtifact struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId"`
}

type sarifRegion struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn,omitempty"`
}

type sarifVersionControl struct {
	RepositoryURI string `json:"repositoryUri"`
	RevisionID    string `json:"revisionId"`
}

// WriteSARIF writes a SARIF 2.1.0 log with one rule per finding kind.
// toolVersion is the driftcheck version; repoURI, when known, lets
// consumers tie the results to the revision.
func (r *Report) WriteSARIF(w io.Writer, toolVersion, repoURI string) error {
	kinds := Kinds()
	rules := make([]sarifRule, len(kinds))
	index := map[Kind]int{}
	for i, k := range kinds {
		rules[i] = sarifRule{ID: string(k), ShortDescription: sarifMessage{k.Description()},
			HelpURI: toolURI + "/blob/main/docs/lint.md#" + string(k)}
		index[k] = i
	}
	results := make([]sarifResult, 0, len(r.Findings))
	for _, f := range r.Findings {
		loc := sarifPhysical{ArtifactLocation: sarifArtifact{URI: f.File, URIBaseID: "%SRCROOT%"}}
		if f.Line > 0 {
			loc.Region = &sarifRegion{StartLine: f.Line, StartColumn: f.Col}
		}
		results = append(results, sarifResult{
			RuleID: string(f.Kind), RuleIndex: index[f.Kind], Level: level(f.Kind),
			Message:   sarifMessage{f.Message},
			Locations: []sarifLocation{{PhysicalLocation: loc}},
		})
	}
	run := sarifRun{
		Tool:    sarifTool{Driver: sarifDriver{Name: "driftcheck", Version: toolVersion, InformationURI: toolURI, Rules: rules}},
		Results: results,
	}
	if repoURI != "" && r.Rev != "" {
		run.VersionControlProvenance = []sarifVersionControl{{RepositoryURI: repoURI, RevisionID: r.Rev}}
	}
	enc := termsafe.NewJSONEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(sarifLog{Schema: sarifSchema, Version: sarifVersion, Runs: []sarifRun{run}}); err != nil {
		return fmt.Errorf("write SARIF report: %w", err)
	}
	return nil
}

// level maps kinds to SARIF levels: what breaks evaluation or hides units is
// an error; stale documentation is a warning.
func level(k Kind) string {
	if k == KindDocUndeclared {
		return "warning"
	}
	return "error"
}
