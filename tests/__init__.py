"""The test suite: unit, integration (real servers), ui (offscreen Qt) and benchmarks."""
