package contract

import (
	"os"
	"strings"
	"testing"
)

func TestParsers(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{{"2024-02-29", true}, {"2023-02-29", false}, {"2024-2-1", false}, {"2024/02/01", false}, {" 2024-02-01 ", true}, {"", false}} {
		if _, err := ParseDate(tc.in); (err == nil) != tc.ok {
			t.Errorf("ParseDate(%q) err = %v", tc.in, err)
		}
	}
	for _, tc := range []struct {
		in string
		ok bool
	}{{"2024-12", true}, {"2024-13", false}, {"2024-1", false}, {"24-01", false}} {
		if _, err := ParseMonth(tc.in); (err == nil) != tc.ok {
			t.Errorf("ParseMonth(%q) err = %v", tc.in, err)
		}
	}
	for in, want := range map[string][2]bool{"Yes": {true, true}, "n": {false, true}, "1": {true, true}, "FALSE": {false, true}, "": {false, false}} {
		v, ok, err := ParseBool(in)
		if err != nil || v != want[0] || ok != want[1] {
			t.Errorf("ParseBool(%q) = %v %v %v", in, v, ok, err)
		}
	}
	if _, _, err := ParseBool("maybe"); err == nil {
		t.Error("ParseBool(maybe) accepted")
	}
	if v, err := ParseEnum("Active Resistant", SubjectBehaviours); err != nil || v != "active-resistant" {
		t.Errorf("ParseEnum = %q %v", v, err)
	}
	if v, err := ParseEnum("physical_control_hard", Responses); err != nil || v != "physical-control-hard" {
		t.Errorf("ParseEnum = %q %v", v, err)
	}
	if _, err := ParseNumber("7,5"); err == nil || !strings.Contains(err.Error(), "decimal comma") {
		t.Errorf("decimal comma: %v", err)
	}
	for _, bad := range []string{"inf", "NaN", "1e3", "0x10", ""} {
		if _, err := ParseNumber(bad); err == nil {
			t.Errorf("ParseNumber(%q) accepted", bad)
		}
	}
	if v, err := ParseNumber("7.5"); err != nil || v != 7.5 {
		t.Errorf("ParseNumber(7.5) = %v %v", v, err)
	}
}

// TestReadmeDocumentsContract keeps the README's contract table in step with
// the definitions: every file and column appears in its file's row.
func TestReadmeDocumentsContract(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "| ") {
			name := strings.Fields(strings.TrimPrefix(line, "| "))[0]
			rows[name] = line
		}
	}
	for _, f := range Files() {
		row, ok := rows[f.Name]
		if !ok {
			t.Errorf("README has no contract row for %s", f.Name)
			continue
		}
		for _, c := range f.Columns {
			want := c.Name
			if c.Required {
				want = "**" + c.Name + "**"
			}
			if !strings.Contains(row, want) {
				t.Errorf("README row for %s lacks %s", f.Name, want)
			}
		}
	}
}
