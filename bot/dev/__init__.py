"""Stand-ins for LINE used in local mode, tests and benchmarks: the fake platform and the simulator."""
