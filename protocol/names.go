package protocol

// The names under which the built-in protocols are registered: what users pass to
// --protocol and what results carry. Code outside the registry that must single
// out a built-in protocol (a report's analytical model applies to aligned only,
// CheckMate's findings name two protocols) compares against these, never against
// a literal.
const (
	AlignedName       = "aligned"
	UnalignedName     = "unaligned"
	HybridName        = "hybrid"
	AtLeastOnceName   = "atleastonce"
	UncoordinatedName = "uncoordinated"
	CICName           = "cic"
)
