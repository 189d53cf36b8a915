package inspect

// MetadataFlag names the flag that fills an x-amz-meta-* header, for
// messages that tell a person what to set; the header itself when no flag
// fills it.
func MetadataFlag(header string) string { return flagFor(header) }
