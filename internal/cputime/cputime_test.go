package cputime

import "testing"

func TestProcessCPUTimeGrowsWithWork(t *testing.T) {
	before := Process()
	x := uint64(1)
	for i := 0; i < 50_000_000; i++ {
		x = x*6364136223846793005 + 1442695040888963407
	}
	if after := Process(); after <= before || x == 0 {
		t.Fatalf("CPU time went from %v to %v over a busy loop", before, after)
	}
}
