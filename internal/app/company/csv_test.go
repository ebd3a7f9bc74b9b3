package company

import (
	"strings"
	"testing"
)

func TestParseCSV(t *testing.T) {
	const a, b = "RSSMRA80A41L319S", "BNCGNN75C15L733G"
	codes, lines, fields := parseCSV([]byte("\ufefftax_code;name\n" + strings.ToLower(a) + ";Maria\n\n" + b + ";Giovanni\n"))
	if len(fields) != 0 || strings.Join(codes, ",") != a+","+b || lines[0] != 2 || lines[1] != 4 {
		t.Fatalf("good file: %v %v %v", codes, lines, fields)
	}
	_, _, fields = parseCSV([]byte(a + "\nXX\n" + a + "\n"))
	if len(fields) != 2 || fields[0].Pointer != "/lines/2" || fields[0].Code != "invalid_tax_code" ||
		fields[1].Pointer != "/lines/3" || fields[1].Code != "repeated" {
		t.Fatalf("bad file: %+v", fields)
	}
	// A header is only a header on the first line.
	if _, _, fields = parseCSV([]byte(a + "\ncodice_fiscale\n")); len(fields) != 1 || fields[0].Pointer != "/lines/2" {
		t.Fatalf("header after data: %+v", fields)
	}
}
