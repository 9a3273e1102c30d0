extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}

/// Text the scanner reads by scalar index.
protocol ScalarText {
    var count: Int { get }
    subscript(_ index: Int) -> Unicode.Scalar { get }
    /// The scalars `start..<end` as a String.
    func string(_ start: Int, _ end: Int) -> String
    /// The next token (a run of scalars other than white space) at or after
    /// `index` that holds a digit, "@" or ":" (`marked`) or is at least `long`
    /// scalars long; nil when none is left.
    func nextMarkedToken(from index: Int, long: Int) -> (start: Int, end: Int, marked: Bool)?
    /// The first index at or after `index` holding "+", "(" or a digit; `count` when none.
    func nextPhoneStart(from index: Int) -> Int
    /// The first index at or after `index` holding "/"; `count` when none.
    func nextSlash(from index: Int) -> Int
}

extension ScalarText {
    func nextMarkedToken(from index: Int, long: Int) -> (start: Int, end: Int, marked: Bool)? {
        var index = index
        while index < count {
            while index < count, self[index].isSpace { index += 1 }
            let start = index
            var marked = false
            while index < count {
                let scalar = self[index]
                if scalar.isSpace { break }
                marked = marked || SelectorScanner.isDigit(scalar) || scalar == "@" || scalar == ":"
                index += 1
            }
            if index > start, marked || index - start >= long { return (start, index, marked) }
        }
        return nil
    }

    func nextPhoneStart(from index: Int) -> Int {
        var index = index
        while index < count {
            let scalar = self[index]
            if scalar == "+" || scalar == "(" || SelectorScanner.isDigit(scalar) { return index }
            index += 1
        }
        return count
    }

    func nextSlash(from index: Int) -> Int {
        var index = index
        while index < count, self[index] != "/" { index += 1 }
        return index
    }
}

extension Array: ScalarText where Element == Unicode.Scalar {
    func string(_ start: Int, _ end: Int) -> String {
        guard end > start else { return "" }
        return String(unsafeUninitializedCapacity: (end - start) * 4) { buffer in
            var count = 0
            for index in start..<end {
                UTF8.encode(self[index]) { byte in
                    buffer[count] = byte
                    count += 1
                }
            }
            return count
        }
    }
}
