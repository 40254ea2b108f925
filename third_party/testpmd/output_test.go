package testpmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBlocksOfCapturedOutput(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "client_txonly.txt"))
	if err != nil {
		t.Fatal(err)
	}
	// One periodic block, then the exit summary (the "Accumulated ... all
	// ports" block repeats it and is not a port block).
	want := []Stats{
		{Port: 0, TxBytes: 768},
		{Port: 0, Final: true, TxPackets: 257024, TxDropped: 70849216},
	}
	for name, out := range map[string]string{"LF": string(raw), "CRLF": strings.ReplaceAll(string(raw), "\n", "\r\n")} {
		got := Blocks(out)
		if len(got) != len(want) {
			t.Fatalf("%s: %d blocks %+v, want %d", name, len(got), got, len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%s: block %d: %+v, want %+v", name, i, got[i], want[i])
			}
		}
	}
}
