package messages

import "github.com/atoll-project/atoll/common/version"

// ProtocolVersion is the version of the wire format this package implements. A host and a
// runtime can talk when their majors are equal. Every wire change bumps it: an incompatible
// change (a field renamed, retyped or made required, a message removed) the major, an added
// optional field or message the minor. Treat it as a constant.
var ProtocolVersion = version.Version{Major: 1, Minor: 0, Patch: 0}

// Compatible reports whether a peer speaking protocol v can talk to this package.
func Compatible(v version.Version) bool {
	return v.MaskNonMajor() == ProtocolVersion.MaskNonMajor()
}
