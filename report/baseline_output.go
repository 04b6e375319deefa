package report

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
)

// Writers of a CheckReport. All of them write the results in report order
// and nothing else: no time, host or path, so equal reports give equal bytes.

// CheckAnnotationTitle is the title of the GitHub Actions annotations.
const CheckAnnotationTitle = "clawtrace check"

// notes returns the remarks that explain a surprising report.
func (r *CheckReport) notes() []string {
	var out []string
	if r.NoThresholds {
		out = append(out, "no thresholds set: only missing scenarios can fail; set them in the baseline file or with the threshold flags")
	}
	if r.NoOverlap {
		out = append(out, "no scenario of the inputs is in the baseline: was the baseline made from other sessions or with another scenario map?")
	}
	for _, k := range r.UnmatchedThresholds {
		out = append(out, fmt.Sprintf("the per-scenario thresholds %q match no scenario, so they apply nowhere: keys are scenario names or globs, and * does not cross the / of agent/session (main/*)", k))
	}
	return out
}

// Verdict returns "pass" or "fail" and a one-line count of the results.
func (r *CheckReport) Verdict() (string, string) {
	pass, fail, warn, skip := r.Counts()
	verdict := "pass"
	if fail > 0 {
		verdict = "fail"
	}
	return verdict, fmt.Sprintf("%s: %d passed, %d failed, %s, %d skipped (%s in the baseline, %d in the inputs)",
		checkPlural(len(r.Results), "check"), pass, fail, checkPlural(warn, "warning"), skip, checkPlural(r.BaselineScenarios, "scenario"), r.InputScenarios)
}

func checkPlural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func checkCellValue(v *float64) string {
	if v == nil {
		return "–"
	}
	return fmtCheckValue(v)
}

func checkCellChange(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

func (x *CheckResult) cells() []string {
	return []string{x.Scenario, x.Check, checkCellValue(x.Baseline), checkCellValue(x.New), checkCellChange(x.Change), x.Threshold, x.Status.String()}
}

var checkTableHeader = []string{"scenario", "check", "baseline", "new", "change", "threshold", "result"}

// WriteTable writes the human diff table: one row per result, numbers
// right-aligned, then the verdict, the message of every result that did
// not pass, and notes.
func (r *CheckReport) WriteTable(w io.Writer) error {
	align := tw.CellAlignment{PerColumn: []tw.Align{tw.AlignLeft, tw.AlignLeft, tw.AlignRight, tw.AlignRight, tw.AlignRight, tw.AlignLeft, tw.AlignLeft}}
	t := tablewriter.NewTable(w,
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAlignmentConfig(align))
	t.Header(checkTableHeader)
	for i := range r.Results {
		if err := t.Append(r.Results[i].cells()); err != nil {
			return err
		}
	}
	if len(r.Results) > 0 {
		if err := t.Render(); err != nil {
			return err
		}
	}
	verdict, counts := r.Verdict()
	fmt.Fprintf(w, "%s: %s\n", strings.ToUpper(verdict), counts)
	for _, x := range r.Results {
		if x.Status != CheckPass {
			fmt.Fprintf(w, "  %s %s\n", strings.ToUpper(x.Status.String()), x.Message)
		}
	}
	for _, n := range r.notes() {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	return nil
}

// CheckReportSchemaVersion is the schema_version of WriteJSON's output.
const CheckReportSchemaVersion = 1

type checkCountsJSON struct {
	Pass int `json:"pass"`
	Fail int `json:"fail"`
	Warn int `json:"warn"`
	Skip int `json:"skip"`
}

type checkReportJSON struct {
	SchemaVersion     int             `json:"schema_version"`
	Result            string          `json:"result"` // "pass" or "fail"
	Counts            checkCountsJSON `json:"counts"`
	BaselineScenarios int             `json:"baseline_scenarios"`
	InputScenarios    int             `json:"input_scenarios"`
	Notes             []string        `json:"notes"`
	Results           []CheckResult   `json:"results"`
}

// WriteJSON writes the report as one indented JSON object:
// {"schema_version":1, "result":"pass"|"fail", "counts":{...},
// "baseline_scenarios":n, "input_scenarios":n, "notes":[...],
// "results":[CheckResult...]}.
func (r *CheckReport) WriteJSON(w io.Writer) error {
	pass, fail, warn, skip := r.Counts()
	verdict, _ := r.Verdict()
	out := checkReportJSON{SchemaVersion: CheckReportSchemaVersion, Result: verdict,
		Counts:            checkCountsJSON{pass, fail, warn, skip},
		BaselineScenarios: r.BaselineScenarios, InputScenarios: r.InputScenarios,
		Notes: r.notes(), Results: r.Results}
	if out.Notes == nil {
		out.Notes = []string{}
	}
	if out.Results == nil {
		out.Results = []CheckResult{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}

// JUnit XML, the subset CI systems read (Jenkins, GitLab, GitHub test
// reporters): one testsuite, one testcase per result.
type junitTestsuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes the report as JUnit XML: <testsuites> holding one
// <testsuite name="clawtrace check">, with one <testcase> per result
// (classname = scenario, name = check). A failed check has a <failure
// message="..." type="threshold">; a new scenario or a skipped check has
// <skipped message="...">; every case carries its message in <system-out>.
func (r *CheckReport) WriteJUnit(w io.Writer) error {
	_, fail, warn, skip := r.Counts()
	suite := junitSuite{Name: CheckAnnotationTitle, Tests: len(r.Results), Failures: fail, Skipped: warn + skip}
	for _, x := range r.Results {
		c := junitCase{Name: x.Check, Classname: x.Scenario, SystemOut: x.Message}
		switch x.Status {
		case CheckFail:
			typ := "threshold"
			if x.Check == CheckScenario {
				typ = "missing-scenario"
			}
			c.Failure = &junitMessage{Message: x.Message, Type: typ, Text: x.Message}
		case CheckWarn, CheckSkip:
			c.Skipped = &junitMessage{Message: x.Message}
		}
		suite.Cases = append(suite.Cases, c)
	}
	doc := junitTestsuites{Name: CheckAnnotationTitle, Tests: suite.Tests, Failures: suite.Failures, Skipped: suite.Skipped,
		Suites: []junitSuite{suite}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	if err := enc.Close(); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// escapeAnnotationData escapes the message of a workflow command as the
// GitHub Actions toolkit does (escapeData).
func escapeAnnotationData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// escapeAnnotationProperty escapes a property value (escapeProperty).
func escapeAnnotationProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

// WriteAnnotations writes one GitHub Actions workflow command per result
// that did not pass: "::error title=clawtrace check::<message>" for a
// failure, "::warning ..." for a new scenario or a skipped check. The
// message is escaped as the Actions toolkit does ('%' becomes "%25"; the
// annotation shows the original text).
func (r *CheckReport) WriteAnnotations(w io.Writer) error {
	for _, x := range r.Results {
		level := ""
		switch x.Status {
		case CheckFail:
			level = "error"
		case CheckWarn, CheckSkip:
			level = "warning"
		default:
			continue
		}
		if _, err := fmt.Fprintf(w, "::%s title=%s::%s\n", level, escapeAnnotationProperty(CheckAnnotationTitle), escapeAnnotationData(x.Message)); err != nil {
			return err
		}
	}
	return nil
}

// escapeCheckMarkdownCell keeps a value inside one cell of a Markdown table.
func escapeCheckMarkdownCell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ").Replace(s)
}

func writeCheckMarkdownTable(w io.Writer, results []CheckResult) {
	fmt.Fprintf(w, "| %s |\n", strings.Join(checkTableHeader, " | "))
	fmt.Fprintln(w, "|:---|:---|---:|---:|---:|:---|:---|")
	for i := range results {
		cells := results[i].cells()
		for j := range cells {
			cells[j] = escapeCheckMarkdownCell(cells[j])
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
	}
}

// WriteMarkdown writes a GitHub-flavoured Markdown summary (for
// $GITHUB_STEP_SUMMARY): a heading with the verdict, the counts, a table of
// the results that did not pass, notes, and every result in a collapsed
// <details> table.
func (r *CheckReport) WriteMarkdown(w io.Writer) error {
	verdict, counts := r.Verdict()
	mark := "✅ passed"
	if verdict == "fail" {
		mark = "❌ failed"
	}
	fmt.Fprintf(w, "## %s: %s\n\n%s\n\n", CheckAnnotationTitle, mark, counts)
	var notPassed []CheckResult
	for _, x := range r.Results {
		if x.Status != CheckPass {
			notPassed = append(notPassed, x)
		}
	}
	if len(notPassed) > 0 {
		writeCheckMarkdownTable(w, notPassed)
		fmt.Fprintln(w)
		for _, x := range notPassed {
			fmt.Fprintf(w, "- **%s** %s\n", x.Status, escapeCheckMarkdownCell(x.Message))
		}
		fmt.Fprintln(w)
	}
	for _, n := range r.notes() {
		fmt.Fprintf(w, "> note: %s\n\n", n)
	}
	if len(r.Results) > 0 {
		fmt.Fprintf(w, "<details><summary>All %d checks</summary>\n\n", len(r.Results))
		writeCheckMarkdownTable(w, r.Results)
		fmt.Fprintf(w, "\n</details>\n")
	}
	_, err := fmt.Fprintln(w)
	return err
}
