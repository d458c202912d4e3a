package api

import (
	"testing"

	"github.com/atoll-project/atoll/common/hash"
)

func TestInsecureEntropyMatchesTheGoldenVector(t *testing.T) {
	// H("atoll/beacon: insecure" || H("atoll") || u64be(1)), computed independently.
	const want = "f4859da6d92b95fafc16d5cd1df600f414fa43cc328b680b00a65349ae0dd059"
	if got := InsecureEntropy(hash.Digest([]byte("atoll")), 1).String(); got != want {
		t.Fatalf("entropy %s, want %s", got, want)
	}
}

func TestTheEpochIsTheHeightDividedByTheInterval(t *testing.T) {
	for _, tc := range []struct {
		height, interval int64
		want             EpochTime
	}{{0, 10, 0}, {9, 10, 0}, {10, 10, 1}, {19, 10, 1}, {20, 10, 2}, {7, 1, 7}} {
		if got := EpochAt(tc.height, tc.interval); got != tc.want {
			t.Errorf("EpochAt(%d, %d) = %d, want %d", tc.height, tc.interval, got, tc.want)
		}
	}
}
