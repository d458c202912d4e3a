package genesis

import (
	"fmt"

	roothash "github.com/atoll-project/atoll/consensus/roothash/api"
)

// RoothashGenesis is the roothash service's section: its parameters. Runtimes get their
// genesis blocks from their descriptors in the registry section. Absent, roothash starts with
// roothash.DefaultConsensusParameters.
type RoothashGenesis = roothash.Genesis

// checkRoothash checks the roothash section, when present.
func (d *Document) checkRoothash() error {
	if d.Roothash == nil {
		return nil
	}
	if err := d.Roothash.SanityCheck(); err != nil {
		return fmt.Errorf("genesis: %w", err)
	}
	return nil
}
