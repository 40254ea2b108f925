package cli

import (
	"runtime/debug"
	"slices"
	"strings"
)

// Version is the module version the tool was built from, with the commit
// when the build recorded one ("(devel)" from a work tree), and the memif
// engine it links: the bundled one, or the system libmemif (build tag
// libmemif_system).
func Version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	engine := "bundled"
	for _, s := range bi.Settings {
		switch s.Key {
		case "-tags":
			if slices.Contains(strings.Split(s.Value, ","), "libmemif_system") {
				engine = "system libmemif"
			}
		case "vcs.revision":
			v += " " + s.Value[:min(12, len(s.Value))]
		case "vcs.modified":
			if s.Value == "true" {
				v += "+dirty"
			}
		}
	}
	return v + " " + bi.GoVersion + ", engine: " + engine
}
