package transaction

import "github.com/atoll-project/atoll/common/errors"

// ModuleName is the error module of the consensus layer's own rejections. Codes 1-19 are
// declared here, codes from 20 by package consensus.
const ModuleName = "consensus"

// Coded errors that reject a transaction. They travel in ABCI results as (Codespace, Code).
var (
	// ErrMalformedTransaction: the bytes are not a canonical signed transaction, or the
	// transaction fails ValidateBasic.
	ErrMalformedTransaction = errors.New(ModuleName, 1, "malformed transaction")
	// ErrInvalidSignature: the signature does not verify for this chain.
	ErrInvalidSignature = errors.New(ModuleName, 2, "invalid transaction signature")
	// ErrTooLarge: the transaction exceeds max_tx_bytes.
	ErrTooLarge = errors.New(ModuleName, 3, "transaction too large")
	// ErrInvalidNonce: the nonce is not the signer's account nonce.
	ErrInvalidNonce = errors.New(ModuleName, 4, "invalid nonce")
	// ErrInsufficientFeeBalance: the signer cannot pay the fee.
	ErrInsufficientFeeBalance = errors.New(ModuleName, 5, "insufficient balance to pay fee")
	// ErrGasPriceTooLow: fee.amount < fee.gas × min_gas_price.
	ErrGasPriceTooLow = errors.New(ModuleName, 6, "gas price too low")
	// ErrOutOfGas: the method needs more gas than fee.gas.
	ErrOutOfGas = errors.New(ModuleName, 7, "out of gas")
	// ErrUnknownMethod: no application owns the method.
	ErrUnknownMethod = errors.New(ModuleName, 8, "unknown method")
	// ErrGasLimitTooHigh: fee.gas exceeds max_block_gas, so no block could include it.
	ErrGasLimitTooHigh = errors.New(ModuleName, 9, "transaction gas limit exceeds the block gas limit")
	// ErrMalformedBody: the method body does not decode or fails its basic checks.
	ErrMalformedBody = errors.New(ModuleName, 10, "malformed method body")
)
