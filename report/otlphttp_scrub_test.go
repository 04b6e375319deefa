package report

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// TestExporterScrubsHeaderWords (issue 11, export credentials): a receiver
// that echoes only the token of "Authorization: Bearer TOKEN" (not the whole
// header value), in an error it rejects with or in a partial-success
// message, must not get the token printed: header values are masked whole
// and word by word (words of four bytes or more).
func TestExporterScrubsHeaderWords(t *testing.T) {
	const token, key = "tok3n-QZSECRET1", "k3y-QZSECRET2"
	for _, tc := range []struct {
		name string
		code int
		body string
	}{
		{"401 echoes the token", http.StatusUnauthorized, "invalid token " + token},
		{"400 echoes the key", http.StatusBadRequest, "unknown api key " + key},
		{"500 echoes both", http.StatusInternalServerError, "auth=" + token + " key=" + key},
		{"401 echoes the whole value", http.StatusUnauthorized, "Authorization: Bearer " + token},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newReceiver(t, func(_ int, w http.ResponseWriter, _ int) {
				http.Error(w, tc.body, tc.code)
			})
			e := testExporter(r.srv.URL, nil)
			e.MaxRetries = 0
			e.Headers = map[string]string{"Authorization": "Bearer " + token, "X-Api-Key": key}
			_, err := e.Export(context.Background(), testTraces(1))
			if err == nil {
				t.Fatalf("no error for %d", tc.code)
			}
			msg := err.Error()
			if strings.Contains(msg, "QZSECRET") {
				t.Errorf("a credential is in the error: %q", msg)
			}
			if !strings.Contains(msg, Redacted) {
				t.Errorf("error %q: want the echoed secret shown as %s", msg, Redacted)
			}
		})
	}
}
