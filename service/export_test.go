package service

// SetMaxExportBytes sets the largest segment export until the returned
// function restores it.
func SetMaxExportBytes(n int) (restore func()) {
	old := maxExportBytes
	maxExportBytes = n
	return func() { maxExportBytes = old }
}
