import Foundation

/// A real 96×64 RGB PNG (a two-colour checkerboard): a picture a browser can
/// decode, for tests of reports, screenshots and the case browser.
public enum CheckerboardPNG {
    /// Its 192 bytes, kept as base64 (one line) rather than rows of hex literals.
    public static let bytes: [UInt8] = Array(Data(base64Encoded: base64) ?? Data())

    static let base64 = "iVBORw0KGgoAAAANSUhEUgAAAGAAAABACAIAAABqVuVZAAAAh0lEQVR42u3aMQ0AIAwEwDrBAVLwgzwsoaAaOlIu+fmT3vhpjLVLuWeW8np/AAIECBAgQIAAAQIECBAgQIAANQP67eBqPyBAgAABAgQIECBAgAABAgQIUDcgg5lFERAgQIAAAQIECBAgQIAAAQLkP8hgZlEEBAgQIECAAAECBAgQIECAALUFSlBaVfAo8N/BAAAAAElFTkSuQmCC"
}
