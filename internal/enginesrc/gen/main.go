// Command gen rewrites cgo/engine.c from libmemif/ (run from the module
// root: `make engine`).
package main

import (
	"fmt"
	"os"

	"github.com/mcmgo/mcm/internal/enginesrc"
)

func main() {
	b, err := enginesrc.Render("libmemif")
	if err == nil {
		err = os.WriteFile("cgo/engine.c", b, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}
