// Package dockertest holds the Docker checks of `make docker-test`: the
// image's two targets, and the compose files run as users run them, with the
// containers' JSON summaries, testpmd's own counters and the containers'
// exit codes asserted.
//
// The tests need a Docker daemon and images built by `make docker-images`,
// so they run only with MCM_DOCKER_TEST=1 (the Makefile sets it); a plain
// `go test ./...` skips them. With MCM_DOCKER_TEST=1 a missing daemon or
// compose is a failure, not a skip.
package dockertest
