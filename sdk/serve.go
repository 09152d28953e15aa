package sdk

// Serve runs the driver as a Kiln plugin and never returns. It owns the process: stdout (the
// go-plugin handshake), stderr (hclog JSON at the level the host passes in KILN_LOG_LEVEL),
// the parent-death watchdog and the exit code. Run with the single argument "describe", the
// binary prints its Info as JSON and exits, without a host.
func Serve[C any, D Driver](p Plugin[C, D], opts ...Option) {
	panic("not yet")
}
