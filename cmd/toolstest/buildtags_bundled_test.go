//go:build !libmemif_system

package toolstest

const toolTags = ""
