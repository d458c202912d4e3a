package api

import (
	"github.com/atoll-project/atoll/common/namespace"
	beacon "github.com/atoll-project/atoll/consensus/beacon/api"
)

// MaxLivenessSuspensionShift caps liveness suspensions at 2^6 = 64 epochs.
const MaxLivenessSuspensionShift = 6

// NodeStatus is what the registry knows about a node beyond its descriptor. It outlives the
// descriptor's expiration: expired nodes are kept (and stay slashable) for the debonding
// interval.
type NodeStatus struct {
	// ExpirationProcessed is set once the registry has handled the node's expiration (claims
	// released, validator removed).
	ExpirationProcessed bool `json:"expiration_processed,omitempty" cbor:"expiration_processed,omitempty"`
	// FreezeEndTime is the first epoch in which the node is no longer frozen; 0 when it never
	// was. A frozen node is elected nowhere and cannot re-register.
	FreezeEndTime beacon.EpochTime `json:"freeze_end_time,omitempty" cbor:"freeze_end_time,omitempty"`
	// Faults are the node's liveness faults per runtime.
	Faults map[namespace.Namespace]Fault `json:"faults,omitempty" cbor:"faults,omitempty"`
}

// Fault is a node's liveness record in one runtime.
type Fault struct {
	// Failures counts recent liveness failures; a live epoch takes one off.
	Failures uint8 `json:"failures" cbor:"failures"`
	// SuspendedUntil is the first epoch in which the node may be elected for the runtime
	// again.
	SuspendedUntil beacon.EpochTime `json:"suspended_until" cbor:"suspended_until"`
}

// IsFrozen reports whether the node is frozen in epoch.
func (s *NodeStatus) IsFrozen(epoch beacon.EpochTime) bool { return epoch < s.FreezeEndTime }

// Freeze freezes the node for interval epochs from epoch, never shortening a longer freeze.
func (s *NodeStatus) Freeze(epoch, interval beacon.EpochTime) {
	end := epoch + interval
	if end < epoch {
		end = beacon.EpochInvalid
	}
	s.FreezeEndTime = max(s.FreezeEndTime, end)
}

// IsSuspended reports whether the node is excluded from runtime's elections in epoch for
// liveness faults.
func (s *NodeStatus) IsSuspended(runtime namespace.Namespace, epoch beacon.EpochTime) bool {
	f, ok := s.Faults[runtime]
	return ok && epoch < f.SuspendedUntil
}

// RecordFailure counts a liveness failure in runtime at epoch and excludes the node from the
// runtime's elections for 2^failures epochs (at most 64).
func (s *NodeStatus) RecordFailure(runtime namespace.Namespace, epoch beacon.EpochTime) {
	if s.Faults == nil {
		s.Faults = make(map[namespace.Namespace]Fault)
	}
	f := s.Faults[runtime]
	if f.Failures < 255 {
		f.Failures++
	}
	f.SuspendedUntil = epoch + beacon.EpochTime(1)<<min(f.Failures, MaxLivenessSuspensionShift)
	s.Faults[runtime] = f
}

// RecordSuccess takes one failure off the node's record in runtime, dropping the record when
// it reaches zero.
func (s *NodeStatus) RecordSuccess(runtime namespace.Namespace) {
	f, ok := s.Faults[runtime]
	if !ok {
		return
	}
	if f.Failures <= 1 {
		delete(s.Faults, runtime)
		return
	}
	f.Failures--
	s.Faults[runtime] = f
}
