package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

type rawIndexRow struct {
	SessionID        string          `json:"sessionId"`
	UpdatedAt        json.RawMessage `json:"updatedAt"`
	ChatType         string          `json:"chatType"`
	Label            string          `json:"label"`
	DisplayName      string          `json:"displayName"`
	ModelProvider    string          `json:"modelProvider"`
	Model            string          `json:"model"`
	SpawnedBy        string          `json:"spawnedBy"`
	ParentSessionKey string          `json:"parentSessionKey"`
	SpawnDepth       int             `json:"spawnDepth"`
	PreviousSession  string          `json:"previousSessionId"`
	Status           string          `json:"status"`
	SessionFile      string          `json:"sessionFile"`
	ForkSource       *struct {
		SessionKey string `json:"sessionKey"`
		SessionID  string `json:"sessionId"`
	} `json:"forkSource"`
}

func parseIndexRow(key string, data []byte, src Source) (IndexRow, error) {
	row := IndexRow{SessionKey: key, Src: src}
	var r rawIndexRow
	if err := json.Unmarshal(data, &r); err != nil {
		return row, describeJSONError(data, err)
	}
	row.SessionID = r.SessionID
	row.ChatType, row.Label, row.DisplayName = r.ChatType, r.Label, r.DisplayName
	row.ModelProvider, row.Model = r.ModelProvider, r.Model
	row.SpawnedBy, row.ParentSessionKey, row.SpawnDepth = r.SpawnedBy, r.ParentSessionKey, r.SpawnDepth
	row.PreviousSession, row.Status, row.SessionFile = r.PreviousSession, r.Status, r.SessionFile
	if r.ForkSource != nil {
		row.ForkSourceKey, row.ForkSourceID = r.ForkSource.SessionKey, r.ForkSource.SessionID
	}
	if len(r.UpdatedAt) > 0 {
		t, err := parseTime(r.UpdatedAt)
		if err != nil {
			return row, fmt.Errorf("updatedAt: %w", err)
		}
		row.UpdatedAt = t
	}
	return row, nil
}

// ParseIndex streams a sessions.json object (sessionKey → row) and calls fn
// for every row. Rows that do not decode are reported as *LineError (Line is
// the row's position in the object) and skipped; a malformed document stops
// the parse with an error after the rows read so far.
func ParseIndex(r io.Reader, name string, fn func(IndexRow)) []error {
	dec := json.NewDecoder(r)
	var errs []error
	tok, err := dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return []error{fmt.Errorf("%s: empty sessions index", name)}
		}
		return []error{fmt.Errorf("%s: %w", name, err)}
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return []error{fmt.Errorf("%s: sessions index is not a JSON object", name)}
	}
	for i := 1; dec.More(); i++ {
		tok, err := dec.Token()
		if err != nil {
			return append(errs, fmt.Errorf("%s: row %d: %w", name, i, err))
		}
		key, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return append(errs, fmt.Errorf("%s: row %d (%q): %w", name, i, key, err))
		}
		src := Source{File: name, Line: i}
		raw = bytes.TrimSpace(raw)
		if len(raw) == 0 || raw[0] != '{' {
			errs = append(errs, &LineError{Src: src, Err: fmt.Errorf("row %q is not an object", key)})
			continue
		}
		row, err := parseIndexRow(key, raw, src)
		if err != nil {
			errs = append(errs, &LineError{Src: src, Err: fmt.Errorf("row %q: %w", key, err)})
			continue
		}
		fn(row)
	}
	return errs
}
