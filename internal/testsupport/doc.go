// Package testsupport is the scaffolding the tests of cgo, mcmdp, the
// tools and internal packages share: short socket paths, a byte pattern,
// fd accounting, and the test binary re-executed as a helper process. It
// is ordinary (non-test) code so that every package's tests can import it;
// services never do.
package testsupport
