// Package profiles holds the domain types of OpenProfiles, a self-hosted
// service that speaks the Amazon Connect Customer Profiles API, and the
// interfaces between its layers: the services the transports call and the
// SPIs (Store, …) the adapters implement. It imports the standard library only.
package profiles

// Version and Commit are set at build time with -ldflags; when they are
// not, cmd/openprofiles reads the version from what the Go toolchain
// recorded in the binary (version.go).
var (
	Version = "dev"
	Commit  = ""
)
