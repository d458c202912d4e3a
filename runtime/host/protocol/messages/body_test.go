package messages

import (
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/atoll-project/atoll/common/cbor"
	coded "github.com/atoll-project/atoll/common/errors"
	"github.com/atoll-project/atoll/common/quantity"
	"github.com/atoll-project/atoll/mkvs/syncer"
	"github.com/atoll-project/atoll/mkvs/writelog"
)

// cmpOptions let go-cmp compare messages: quantities by value, write log entries by their
// exported fields.
var cmpOptions = []cmp.Option{
	cmp.Comparer(func(a, b quantity.Quantity) bool { return a.Cmp(&b) == 0 }),
	cmpopts.IgnoreUnexported(writelog.LogEntry{}),
}

func checkedBodyKeys(t *testing.T) []string {
	t.Helper()
	snake := regexp.MustCompile(`^[a-z]+(_[a-z]+)*$`)
	ty := reflect.TypeFor[Body]()
	keys := make([]string, 0, ty.NumField())
	seen := map[string]bool{}
	for i := range ty.NumField() {
		f := ty.Field(i)
		if f.Type.Kind() != reflect.Pointer {
			t.Errorf("Body.%s is a %s, want a pointer", f.Name, f.Type)
		}
		key, opts, _ := strings.Cut(f.Tag.Get("cbor"), ",")
		if !snake.MatchString(key) || opts != "omitempty" {
			t.Errorf("Body.%s has tag %q, want a snake_case key with omitempty", f.Name, f.Tag.Get("cbor"))
		}
		if seen[key] {
			t.Errorf("Body key %q is used twice", key)
		}
		seen[key] = true
		keys = append(keys, key)
	}
	return keys
}

func TestEveryBodyFieldIsAnOptionalPointerWithAUniqueSnakeCaseKey(t *testing.T) {
	keys := checkedBodyKeys(t)
	if diff := cmp.Diff(keys, bodyKeys()); diff != "" {
		t.Errorf("Body.fields() does not list the struct's fields (-struct +fields):\n%s", diff)
	}
	// Setting each field alone gives a body of that kind.
	for i, key := range keys {
		var b Body
		f := reflect.ValueOf(&b).Elem().Field(i)
		f.Set(reflect.New(f.Type().Elem()))
		if got := b.Kind(); got != key {
			t.Errorf("a body with only field %d set has kind %q, want %q", i, got, key)
		}
	}
}

func TestEveryBodyKindSurvivesARoundTripUnchanged(t *testing.T) {
	samples := sampleBodies()
	for _, key := range checkedBodyKeys(t) {
		t.Run(key, func(t *testing.T) {
			body, ok := samples[key]
			if !ok {
				t.Fatalf("no sample body of kind %s", key)
			}
			mt := MessageTypeResponse
			if body.IsRequest() {
				mt = MessageTypeRequest
			}
			msg := &Message{ID: 7, MessageType: mt, Body: *body}
			enc := EncodeMessage(msg)
			got, err := DecodeMessage(enc, len(enc))
			if err != nil {
				t.Fatalf("DecodeMessage() = %v", err)
			}
			if diff := cmp.Diff(msg, got, cmpOptions...); diff != "" {
				t.Errorf("round trip changed the message (-want +got):\n%s", diff)
			}
			if reenc := EncodeMessage(got); string(reenc) != string(enc) {
				t.Errorf("re-encoding gives %x, want %x", reenc, enc)
			}
			if !strings.Contains(string(enc), key) {
				t.Errorf("encoding does not carry the key %q", key)
			}
		})
	}
}

func TestRequestsAreTheKindsEndingInRequest(t *testing.T) {
	for kind, body := range sampleBodies() {
		if got, want := body.IsRequest(), strings.HasSuffix(kind, "_request"); got != want {
			t.Errorf("%s: IsRequest() = %v, want %v", kind, got, want)
		}
	}
}

func TestABodyWithZeroOrTwoFieldsIsRejected(t *testing.T) {
	cases := []struct {
		name string
		body Body
	}{
		{"no field", Body{}},
		{"two fields", Body{Empty: &Empty{}, RuntimePingRequest: &RuntimePingRequest{}}},
		{"two requests", Body{RuntimePingRequest: &RuntimePingRequest{}, RuntimeAbortRequest: &RuntimeAbortRequest{}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := c.body.ValidateBasic(); !errors.Is(err, ErrMalformedMessage) {
				t.Fatalf("ValidateBasic() = %v, want ErrMalformedMessage", err)
			}
			enc := cbor.Marshal(&Message{ID: 1, MessageType: MessageTypeRequest, Body: c.body})
			if _, err := DecodeMessage(enc, len(enc)); !errors.Is(err, ErrMalformedMessage) {
				t.Fatalf("DecodeMessage() = %v, want ErrMalformedMessage", err)
			}
		})
	}
}

func TestDecodeMessageRejectsMalformedEnvelopes(t *testing.T) {
	ping := Body{RuntimePingRequest: &RuntimePingRequest{}}
	cases := []struct {
		name string
		data []byte
	}{
		{"not CBOR", []byte{0xff, 0x00}},
		{"a CBOR array", cbor.Marshal([]int{1, 2})},
		{"message type 0", cbor.Marshal(&Message{ID: 1, Body: ping})},
		{"message type 3", cbor.Marshal(&Message{ID: 1, MessageType: 3, Body: ping})},
		{"a request carrying a response body", cbor.Marshal(&Message{ID: 1, MessageType: MessageTypeRequest, Body: Body{Empty: &Empty{}}})},
		{"a response carrying a request body", cbor.Marshal(&Message{ID: 1, MessageType: MessageTypeResponse, Body: ping})},
		{"an error with code 0", cbor.Marshal(&Message{ID: 1, MessageType: MessageTypeResponse, Body: Body{Error: &Error{Message: "x"}}})},
		{"an unknown body key", cbor.Marshal(map[string]any{"id": 1, "message_type": 1, "body": map[string]any{"runtime_fly_request": map[string]any{}}})},
		{"an unknown envelope key", cbor.Marshal(map[string]any{"id": 1, "message_type": 1, "body": map[string]any{"runtime_ping_request": map[string]any{}}, "x": 1})},
		{"an unknown field inside a request", cbor.Marshal(map[string]any{"id": 1, "message_type": 1, "body": map[string]any{"runtime_ping_request": map[string]any{"x": 1}}})},
		{"a null body field", cbor.Marshal(map[string]any{"id": 1, "message_type": 1, "body": map[string]any{"runtime_ping_request": nil}})},
		{"trailing bytes", append(cbor.Marshal(&Message{ID: 1, MessageType: MessageTypeRequest, Body: ping}), 0x00)},
		{"a storage sync request with two requests", cbor.Marshal(&Message{ID: 1, MessageType: MessageTypeRequest, Body: Body{HostStorageSyncRequest: &HostStorageSyncRequest{
			SyncGet: &syncer.GetRequest{}, SyncIterate: &syncer.IterateRequest{},
		}}})},
		{"a RAK signature of the wrong length", cbor.Marshal(&Message{ID: 1, MessageType: MessageTypeResponse, Body: Body{RuntimeExecuteTxBatchResponse: &RuntimeExecuteTxBatchResponse{
			Batch: ComputedBatch{RakSig: make([]byte, 63)},
		}}})},
		{"a RAK public key of the wrong length", cbor.Marshal(&Message{ID: 1, MessageType: MessageTypeResponse, Body: Body{RuntimeCapabilityTEERakReportResponse: &RuntimeCapabilityTEERakReportResponse{
			RakPub: make([]byte, 33),
		}}})},
		{"a storage sync request with none", cbor.Marshal(&Message{ID: 1, MessageType: MessageTypeRequest, Body: Body{HostStorageSyncRequest: &HostStorageSyncRequest{}}})},
		{"a storage sync request to an unknown endpoint", cbor.Marshal(&Message{ID: 1, MessageType: MessageTypeRequest, Body: Body{HostStorageSyncRequest: &HostStorageSyncRequest{
			Endpoint: 2, SyncGet: &syncer.GetRequest{},
		}}})},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := DecodeMessage(c.data, 1<<20)
			if !errors.Is(err, ErrMalformedMessage) {
				t.Fatalf("DecodeMessage() = %+v, %v; want ErrMalformedMessage", m, err)
			}
		})
	}
}

func TestDecodeMessageRejectsInputOverTheLimit(t *testing.T) {
	enc := EncodeMessage(&Message{ID: 1, MessageType: MessageTypeRequest, Body: Body{RuntimePingRequest: &RuntimePingRequest{}}})
	_, err := DecodeMessage(enc, len(enc)-1)
	if !errors.Is(err, ErrMalformedMessage) || !errors.Is(err, cbor.ErrTooLarge) {
		t.Fatalf("DecodeMessage() = %v, want ErrMalformedMessage and cbor.ErrTooLarge", err)
	}
}

var errTestFailure = coded.New("messages_test", 1, "test failure")

func TestErrorsKeepTheirCodeAcrossTheWire(t *testing.T) {
	sentinel := errTestFailure
	wrapped := errors.Join(errors.New("context"), sentinel)
	w := NewError(wrapped)
	if w.Module != "messages_test" || w.Code != 1 {
		t.Fatalf("NewError() = %+v, want module messages_test code 1", w)
	}
	back := w.Err()
	if !errors.Is(back, sentinel) {
		t.Errorf("Err() = %v, which is not the sentinel", back)
	}
	if !strings.Contains(back.Error(), "context") {
		t.Errorf("Err() = %q lost the wrapped detail", back)
	}

	plain := NewError(errors.New("disk on fire"))
	if plain.Module != coded.UnknownModule || plain.Code != coded.UnknownCode || plain.Message != "disk on fire" {
		t.Errorf("NewError(plain) = %+v", plain)
	}
	if (&Error{}).Err() != nil {
		t.Error("an Error with code 0 converts to a non-nil error")
	}
}

func TestVersionsWithTheSameMajorAreCompatible(t *testing.T) {
	v := ProtocolVersion
	v.Minor += 3
	v.Patch++
	if !Compatible(v) {
		t.Errorf("%s is not compatible with %s", v, ProtocolVersion)
	}
	v.Major++
	if Compatible(v) {
		t.Errorf("%s is compatible with %s", v, ProtocolVersion)
	}
}
