module github.com/mcmgo/mcm

go 1.24

require (
	github.com/stretchr/testify v1.11.1 // indirect
	golang.org/x/sys v0.38.0 // indirect
)
