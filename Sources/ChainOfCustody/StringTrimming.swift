extension String {
    /// Without the characters of `set` at either end: `"\"utf-8\"".trimming("\"'")` is
    /// `utf-8`. For header values and attribute labels, where Foundation's
    /// `trimmingCharacters(in:)` would need a CharacterSet built for one call.
    package func trimming(_ set: String) -> String {
        var slice = Substring(self)
        while let first = slice.first, set.contains(first) { slice = slice.dropFirst() }
        while let last = slice.last, set.contains(last) { slice = slice.dropLast() }
        return String(slice)
    }
}
