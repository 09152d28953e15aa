package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestQuotaCheck_dev checks the database of a -dev agent's data directory, and refuses a call
// that names no database.
func TestQuotaCheck_dev(t *testing.T) {
	var out, errs bytes.Buffer
	if err := quotaCheckCommand(t.Context(), []string{"-dev", "-data-dir", t.TempDir()}, &out, &errs); err != nil {
		t.Fatalf("quota check -dev: %v\n%s", err, errs.String())
	}
	if !strings.Contains(out.String(), "no difference") {
		t.Errorf("output %q", out.String())
	}
	if err := quotaCheckCommand(t.Context(), nil, &out, &errs); err == nil || !strings.Contains(err.Error(), "usage") {
		t.Errorf("no database named: %v", err)
	}
}
