package api

import "github.com/atoll-project/atoll/common/errors"

// ModuleName is the service's name: its application name, error module and method prefix.
const ModuleName = "staking"

// Coded errors of the staking service; they reject a transaction (or a runtime message).
var (
	// ErrInvalidArgument: a body field is out of range (zero amount, self-transfer to a
	// runtime, ...).
	ErrInvalidArgument = errors.New(ModuleName, 1, "invalid argument")
	// ErrInsufficientBalance: the general balance is too low.
	ErrInsufficientBalance = errors.New(ModuleName, 2, "insufficient balance")
	// ErrInsufficientStake: the escrow would no longer cover the account's stake claims, or
	// a delegation has fewer shares than asked for.
	ErrInsufficientStake = errors.New(ModuleName, 3, "insufficient stake")
	// ErrForbidden: the caller may not do this (for example sign for a runtime's account).
	ErrForbidden = errors.New(ModuleName, 4, "forbidden")
	// ErrUnderMinDelegation: the escrow deposit is below min_delegation.
	ErrUnderMinDelegation = errors.New(ModuleName, 5, "amount is lower than the minimum delegation amount")
	// ErrAllowanceExceeded: a withdrawal exceeds the beneficiary's allowance.
	ErrAllowanceExceeded = errors.New(ModuleName, 6, "allowance exceeded")
	// ErrTooManyAllowances: the account already has max_allowances beneficiaries.
	ErrTooManyAllowances = errors.New(ModuleName, 7, "too many allowances")
	// ErrNoSuchAccount: a query named an account that does not exist.
	ErrNoSuchAccount = errors.New(ModuleName, 8, "no such account")
	// ErrEmptyPool: the escrow pool lost its whole balance to slashing while shares remain, so
	// no new shares can be issued.
	ErrEmptyPool = errors.New(ModuleName, 9, "escrow pool has shares but no balance")
)
