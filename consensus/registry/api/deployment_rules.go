package api

import (
	"fmt"
	"sort"

	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/common/signature"
	"github.com/atoll-project/atoll/common/version"
	beacon "github.com/atoll-project/atoll/consensus/beacon/api"
)

// AnnouncedVersion is a version number a runtime has announced and the bundle it named.
type AnnouncedVersion struct {
	Version        version.Version `json:"version" cbor:"version"`
	BundleChecksum hash.Hash       `json:"bundle_checksum" cbor:"bundle_checksum"`
}

// AnnouncedVersions records every version a runtime has ever announced in an accepted
// descriptor, with its bundle, sorted by version. It is how the rule "a version number once
// announced is never reused for another bundle" survives withdrawn pending entries and
// dropped old entries.
//
// Where it is kept: the registry application stores one per runtime under its own key prefix
// (beside the descriptor), never prunes it, passes it to VerifyRuntimeUpdate, and replaces it
// with With(accepted descriptor) after every accepted registration or update (genesis
// included). It grows by at most one entry per accepted update (an update may add only one
// future entry), each paid for by the update's gas.
type AnnouncedVersions []AnnouncedVersion

// Lookup returns the bundle announced for v.
func (a AnnouncedVersions) Lookup(v version.Version) (hash.Hash, bool) {
	i := sort.Search(len(a), func(i int) bool { return a[i].Version.Compare(v) >= 0 })
	if i < len(a) && a[i].Version == v {
		return a[i].BundleChecksum, true
	}
	return hash.Hash{}, false
}

// With returns a new record holding a and every deployment of rt. Entries already in a keep
// their bundle: callers run VerifyRuntimeUpdate first, which rejects a different one.
func (a AnnouncedVersions) With(rt *Runtime) AnnouncedVersions {
	out := append(AnnouncedVersions(nil), a...)
	for i := range rt.Deployments {
		d := &rt.Deployments[i]
		if _, ok := out.Lookup(d.Version); !ok {
			out = append(out, AnnouncedVersion{Version: d.Version, BundleChecksum: d.BundleChecksum})
			sort.Slice(out, func(i, j int) bool { return out[i].Version.Compare(out[j].Version) < 0 })
		}
	}
	return out
}

// noticeEpoch returns the first epoch a new or changed deployment may be valid from:
// epoch + min_deployment_notice, saturating.
func noticeEpoch(params *ConsensusParameters, epoch beacon.EpochTime) beacon.EpochTime {
	if sum := epoch + params.MinDeploymentNotice; sum >= epoch {
		return sum
	}
	return beacon.EpochInvalid
}

// checkNotice checks that a new or changed entry at index i is neither retroactive nor sooner
// than the notice allows.
func checkNotice(params *ConsensusParameters, d *VersionInfo, i int, epoch beacon.EpochTime) error {
	if d.ValidFrom <= epoch {
		return invalidDeployments("retroactive entry: deployments[%d] (version %s) valid_from %d is not after the current epoch %d", i, d.Version, d.ValidFrom, epoch)
	}
	if first := noticeEpoch(params, epoch); d.ValidFrom < first {
		return invalidDeployments("deployments[%d] (version %s) valid_from %d is sooner than epoch %d + min_deployment_notice %d = %d", i, d.Version, d.ValidFrom, epoch, params.MinDeploymentNotice, first)
	}
	return nil
}

// checkFutureEntries allows at most one entry with valid_from > epoch.
func checkFutureEntries(rt *Runtime, epoch beacon.EpochTime) error {
	first := -1
	for i := range rt.Deployments {
		if rt.Deployments[i].ValidFrom <= epoch {
			continue
		}
		if first >= 0 {
			return invalidDeployments("two future entries: deployments[%d] (version %s) and deployments[%d] (version %s) are both after epoch %d; at most one may be pending",
				first, rt.Deployments[first].Version, i, rt.Deployments[i].Version, epoch)
		}
		first = i
	}
	return nil
}

// VerifyRuntimeRegistration checks a new runtime descriptor in epoch: ValidateRuntime, at most
// one future entry, and, for a runtime registered by transaction (not isGenesis), a first
// entry valid from epoch + min_deployment_notice or later. A genesis runtime may be valid from
// any epoch, 0 included. Since a transaction's every entry is then in the future, such a
// runtime has exactly one entry.
func VerifyRuntimeRegistration(params *ConsensusParameters, rt *Runtime, epoch beacon.EpochTime, isGenesis bool) error {
	if err := ValidateRuntime(params, rt); err != nil {
		return err
	}
	if !isGenesis {
		if err := checkNotice(params, &rt.Deployments[0], 0, epoch); err != nil {
			return err
		}
	}
	return checkFutureEntries(rt, epoch)
}

// VerifyRuntimeUpdate checks the update of descriptor old to next in epoch (DESIGN.md §4):
//   - id, kind, genesis, entity_id and tee_hardware are unchanged, and the governance model
//     is unchanged or goes from entity to runtime;
//   - next passes ValidateRuntime;
//   - the entry active at epoch in old is present and identical in next;
//   - every entry of next that is not identical to one of old is valid from
//     epoch + min_deployment_notice or later (nothing retroactive, nothing active at once);
//   - at most one entry of next is in the future;
//   - no version of next was announced before (in announced or in old) for another bundle.
//
// Pending entries of old may therefore be amended (same version and bundle, or a new version)
// or withdrawn, and entries older than the active one may be dropped. Errors wrap
// ErrInvalidRuntime, ErrInvalidDeployments, ErrRuntimeUpdateNotAllowed or ErrVersionReused.
func VerifyRuntimeUpdate(params *ConsensusParameters, old, next *Runtime, epoch beacon.EpochTime, announced AnnouncedVersions) error {
	if err := checkImmutable(old, next); err != nil {
		return err
	}
	if err := ValidateRuntime(params, next); err != nil {
		return err
	}
	if active := old.ActiveDeployment(epoch); active != nil {
		kept := next.DeploymentForVersion(active.Version)
		switch {
		case kept == nil:
			return invalidDeployments("the active entry (version %s, valid_from %d) was removed; it must stay present and identical", active.Version, active.ValidFrom)
		case !kept.Equal(active):
			return invalidDeployments("changed active entry: version %s, valid_from %d must stay identical", active.Version, active.ValidFrom)
		}
	}
	for i := range next.Deployments {
		d := &next.Deployments[i]
		if prev := old.DeploymentForVersion(d.Version); prev != nil && prev.Equal(d) {
			continue
		}
		if err := checkNotice(params, d, i, epoch); err != nil {
			return err
		}
	}
	if err := checkFutureEntries(next, epoch); err != nil {
		return err
	}
	return checkVersionReuse(old, next, announced)
}

func checkImmutable(old, next *Runtime) error {
	notAllowed := func(field string) error {
		return fmt.Errorf("%w: %s is immutable", ErrRuntimeUpdateNotAllowed, field)
	}
	switch {
	case next.ID != old.ID:
		return notAllowed("id")
	case next.Kind != old.Kind:
		return notAllowed("kind")
	case next.Genesis != old.Genesis:
		return notAllowed("genesis")
	case next.EntityID != old.EntityID:
		return notAllowed("entity_id")
	case next.TEEHardware != old.TEEHardware:
		return notAllowed("tee_hardware")
	}
	if next.GovernanceModel != old.GovernanceModel && (old.GovernanceModel != GovernanceEntity || next.GovernanceModel != GovernanceRuntime) {
		return fmt.Errorf("%w: governance_model may only change from entity to runtime, not from %s to %s", ErrRuntimeUpdateNotAllowed, old.GovernanceModel, next.GovernanceModel)
	}
	return nil
}

func checkVersionReuse(old, next *Runtime, announced AnnouncedVersions) error {
	known := announced.With(old)
	for i := range next.Deployments {
		d := &next.Deployments[i]
		if sum, ok := known.Lookup(d.Version); ok && sum != d.BundleChecksum {
			return fmt.Errorf("%w: deployments[%d] announces version %s with bundle %s, but it was announced with bundle %s", ErrVersionReused, i, d.Version, d.BundleChecksum, sum)
		}
	}
	return nil
}

// AuthorizeRuntimeTx checks that signer may send a registry.RegisterRuntime transaction for
// next, given the current descriptor old (nil for a new runtime): a new runtime is registered
// by its entity; an entity-governed runtime is updated by its entity; a runtime-governed
// runtime is updated only by its own messages. Errors wrap ErrForbidden.
func AuthorizeRuntimeTx(old, next *Runtime, signer signature.PublicKey) error {
	if old == nil {
		if signer != next.EntityID {
			return fmt.Errorf("%w: runtime %s must be registered by its entity %s, not %s", ErrForbidden, next.ID, next.EntityID, signer)
		}
		return nil
	}
	switch {
	case old.GovernanceModel != GovernanceEntity:
		return fmt.Errorf("%w: runtime %s is %s-governed; only its own messages update it", ErrForbidden, old.ID, old.GovernanceModel)
	case signer != old.EntityID:
		return fmt.Errorf("%w: runtime %s may be updated only by its entity %s, not %s", ErrForbidden, old.ID, old.EntityID, signer)
	}
	return nil
}

// AuthorizeRuntimeMessage checks that runtime sender may update descriptor old by an
// update_runtime message: old must be runtime-governed and be the sender's own descriptor.
// Errors wrap ErrForbidden.
func AuthorizeRuntimeMessage(old *Runtime, sender namespace.Namespace) error {
	switch {
	case old.ID != sender:
		return fmt.Errorf("%w: runtime %s may not update runtime %s", ErrForbidden, sender, old.ID)
	case old.GovernanceModel != GovernanceRuntime:
		return fmt.Errorf("%w: runtime %s is %s-governed; its messages cannot update it", ErrForbidden, old.ID, old.GovernanceModel)
	}
	return nil
}
