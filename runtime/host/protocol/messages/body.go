package messages

import (
	"fmt"
	"strings"

	coded "github.com/atoll-project/atoll/common/errors"
)

// Body is the union of everything a message can carry: exactly one field is set, and its CBOR
// key is the field's snake_case name. Request fields end in "_request"; the others (including
// Empty and Error) are responses.
//
// Adding a field is a wire change (bump ProtocolVersion). Body has one field per message type
// by design: it is the protocol's whole vocabulary in one place.
type Body struct {
	Empty *Empty `cbor:"empty,omitempty"`
	Error *Error `cbor:"error,omitempty"`

	// Host → runtime.
	RuntimeInfoRequest                    *RuntimeInfoRequest                    `cbor:"runtime_info_request,omitempty"`
	RuntimeInfoResponse                   *RuntimeInfoResponse                   `cbor:"runtime_info_response,omitempty"`
	RuntimePingRequest                    *RuntimePingRequest                    `cbor:"runtime_ping_request,omitempty"`
	RuntimeAbortRequest                   *RuntimeAbortRequest                   `cbor:"runtime_abort_request,omitempty"`
	RuntimeShutdownRequest                *RuntimeShutdownRequest                `cbor:"runtime_shutdown_request,omitempty"`
	RuntimeCheckTxBatchRequest            *RuntimeCheckTxBatchRequest            `cbor:"runtime_check_tx_batch_request,omitempty"`
	RuntimeCheckTxBatchResponse           *RuntimeCheckTxBatchResponse           `cbor:"runtime_check_tx_batch_response,omitempty"`
	RuntimeExecuteTxBatchRequest          *RuntimeExecuteTxBatchRequest          `cbor:"runtime_execute_tx_batch_request,omitempty"`
	RuntimeExecuteTxBatchResponse         *RuntimeExecuteTxBatchResponse         `cbor:"runtime_execute_tx_batch_response,omitempty"`
	RuntimeQueryRequest                   *RuntimeQueryRequest                   `cbor:"runtime_query_request,omitempty"`
	RuntimeQueryResponse                  *RuntimeQueryResponse                  `cbor:"runtime_query_response,omitempty"`
	RuntimeCapabilityTEERakInitRequest    *RuntimeCapabilityTEERakInitRequest    `cbor:"runtime_capability_tee_rak_init_request,omitempty"`
	RuntimeCapabilityTEERakReportRequest  *RuntimeCapabilityTEERakReportRequest  `cbor:"runtime_capability_tee_rak_report_request,omitempty"`
	RuntimeCapabilityTEERakReportResponse *RuntimeCapabilityTEERakReportResponse `cbor:"runtime_capability_tee_rak_report_response,omitempty"`

	// Runtime → host.
	HostStorageSyncRequest      *HostStorageSyncRequest      `cbor:"host_storage_sync_request,omitempty"`
	HostStorageSyncResponse     *HostStorageSyncResponse     `cbor:"host_storage_sync_response,omitempty"`
	HostLocalStorageGetRequest  *HostLocalStorageGetRequest  `cbor:"host_local_storage_get_request,omitempty"`
	HostLocalStorageGetResponse *HostLocalStorageGetResponse `cbor:"host_local_storage_get_response,omitempty"`
	HostLocalStorageSetRequest  *HostLocalStorageSetRequest  `cbor:"host_local_storage_set_request,omitempty"`
}

const requestSuffix = "_request"

// validator is implemented by body types with structure of their own to check (nested unions,
// codes).
type validator interface {
	ValidateBasic() error
}

// bodyField is one field of a Body: its CBOR key, whether it is set, and its value.
type bodyField struct {
	key   string
	set   bool
	value any
}

// fields lists every field of b in declaration order. It is the one place that enumerates
// Body's fields; a test checks it against the struct.
func (b *Body) fields() [21]bodyField {
	return [...]bodyField{
		{"empty", b.Empty != nil, b.Empty},
		{"error", b.Error != nil, b.Error},
		{"runtime_info_request", b.RuntimeInfoRequest != nil, b.RuntimeInfoRequest},
		{"runtime_info_response", b.RuntimeInfoResponse != nil, b.RuntimeInfoResponse},
		{"runtime_ping_request", b.RuntimePingRequest != nil, b.RuntimePingRequest},
		{"runtime_abort_request", b.RuntimeAbortRequest != nil, b.RuntimeAbortRequest},
		{"runtime_shutdown_request", b.RuntimeShutdownRequest != nil, b.RuntimeShutdownRequest},
		{"runtime_check_tx_batch_request", b.RuntimeCheckTxBatchRequest != nil, b.RuntimeCheckTxBatchRequest},
		{"runtime_check_tx_batch_response", b.RuntimeCheckTxBatchResponse != nil, b.RuntimeCheckTxBatchResponse},
		{"runtime_execute_tx_batch_request", b.RuntimeExecuteTxBatchRequest != nil, b.RuntimeExecuteTxBatchRequest},
		{"runtime_execute_tx_batch_response", b.RuntimeExecuteTxBatchResponse != nil, b.RuntimeExecuteTxBatchResponse},
		{"runtime_query_request", b.RuntimeQueryRequest != nil, b.RuntimeQueryRequest},
		{"runtime_query_response", b.RuntimeQueryResponse != nil, b.RuntimeQueryResponse},
		{"runtime_capability_tee_rak_init_request", b.RuntimeCapabilityTEERakInitRequest != nil, b.RuntimeCapabilityTEERakInitRequest},
		{"runtime_capability_tee_rak_report_request", b.RuntimeCapabilityTEERakReportRequest != nil, b.RuntimeCapabilityTEERakReportRequest},
		{"runtime_capability_tee_rak_report_response", b.RuntimeCapabilityTEERakReportResponse != nil, b.RuntimeCapabilityTEERakReportResponse},
		{"host_storage_sync_request", b.HostStorageSyncRequest != nil, b.HostStorageSyncRequest},
		{"host_storage_sync_response", b.HostStorageSyncResponse != nil, b.HostStorageSyncResponse},
		{"host_local_storage_get_request", b.HostLocalStorageGetRequest != nil, b.HostLocalStorageGetRequest},
		{"host_local_storage_get_response", b.HostLocalStorageGetResponse != nil, b.HostLocalStorageGetResponse},
		{"host_local_storage_set_request", b.HostLocalStorageSetRequest != nil, b.HostLocalStorageSetRequest},
	}
}

// bodyKeys returns the CBOR keys of all Body fields, in declaration order.
func bodyKeys() []string {
	var keys []string
	for _, f := range (&Body{}).fields() {
		keys = append(keys, f.key)
	}
	return keys
}

// single returns the field set in b and how many are set.
func (b *Body) single() (first bodyField, n int) {
	for _, f := range b.fields() {
		if f.set {
			if n == 0 {
				first = f
			}
			n++
		}
	}
	return first, n
}

// setKeys returns the keys of the fields set in b.
func (b *Body) setKeys() []string {
	var keys []string
	for _, f := range b.fields() {
		if f.set {
			keys = append(keys, f.key)
		}
	}
	return keys
}

// Kind returns the CBOR key of the field set in b ("runtime_ping_request", "empty", ...), or a
// description when zero or several are set.
func (b *Body) Kind() string {
	if first, n := b.single(); n == 1 {
		return first.key
	}
	keys := b.setKeys()
	if len(keys) == 0 {
		return "(no body)"
	}
	return "(" + strings.Join(keys, ", ") + ")"
}

// IsRequest reports whether b carries a request.
func (b *Body) IsRequest() bool { return strings.HasSuffix(b.Kind(), requestSuffix) }

// ValidateBasic checks that exactly one field is set and that the value's own structure, if it
// has one (an error's code, a storage sync request's union), is sound.
func (b *Body) ValidateBasic() error {
	first, n := b.single()
	if n != 1 {
		return fmt.Errorf("%w: body has %d fields set %v, want exactly 1", ErrMalformedMessage, n, b.setKeys())
	}
	if v, ok := first.value.(validator); ok {
		if err := v.ValidateBasic(); err != nil {
			return fmt.Errorf("%s: %w", first.key, err)
		}
	}
	return nil
}

// Error is sent in place of a response when a request fails. Module and Code identify a coded
// error (common/errors), so that errors.Is works on the receiving side for every error
// registered there; Message is the sender's full error text. As a Body it must have Code ≥ 1.
// Inside a CheckTxResult, Code 0 means success.
type Error struct {
	Module  string `cbor:"module,omitempty"`
	Code    uint32 `cbor:"code,omitempty"`
	Message string `cbor:"message,omitempty"`
}

// NewError converts err to its wire form; an error without a code travels as
// (errors.UnknownModule, errors.UnknownCode) with its text. A nil err gives the zero Error.
func NewError(err error) *Error {
	w := coded.ToWire(err)
	return &Error{Module: w.Module, Code: w.Code, Message: w.Message}
}

// Err converts e back to an error: for a registered (module, code) pair, one for which
// errors.Is(err, sentinel) holds. It returns nil when Code is 0.
func (e *Error) Err() error {
	return coded.FromWire(coded.Wire{Module: e.Module, Code: e.Code, Message: e.Message})
}

// ValidateBasic checks that the error has a code.
func (e *Error) ValidateBasic() error {
	if e.Code == 0 {
		return fmt.Errorf("%w: error with code 0", ErrMalformedMessage)
	}
	return nil
}
