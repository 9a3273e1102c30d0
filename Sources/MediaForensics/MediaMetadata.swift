public import ChainOfCustody
import Foundation

/// What ExifTool (`exiftool -json -G -n -struct`) and, for video, ffprobe
/// (`-print_format json -show_format -show_streams`) say about one media file, run
/// under `BoundedTool` limits on the sealed copy. The tools' output is kept byte for
/// byte (`exiftoolJSON`, `ffprobeJSON`) for the sealed record; `summary` is what an
/// investigator reads first.
public struct MediaMetadata: Sendable {
    /// ExifTool's JSON as printed, or nil when it failed.
    public var exiftoolJSON: [UInt8]?
    /// ffprobe's JSON as printed, or nil when not run or failed.
    public var ffprobeJSON: [UInt8]?
    /// "metadata unavailable: REASON" for each tool that failed.
    public var unavailable: [String]
    /// ExifTool's warnings (a malformed segment it read round, say).
    public var warnings: [String] = []
    public var summary: MediaSummary

    /// Runs the tools on `path` (the sealed blob). `video` adds ffprobe. Never throws
    /// for a hostile file: a tool that fails, times out or hits a limit is recorded
    /// in `unavailable`; only a missing tool throws.
    public static func extract(path: String, video: Bool, tool: BoundedTool = BoundedTool()) throws(ExhibitError) -> MediaMetadata {
        var metadata = MediaMetadata(exiftoolJSON: nil, ffprobeJSON: nil, unavailable: [], summary: MediaSummary())
        // `--` ends the options: a blob path never starts with a dash, but a file name could.
        let exif = try tool.run("exiftool", ["-json", "-G", "-n", "-struct", "-charset", "filename=utf8", "--", path])
        var exifObject: JSONValue?
        // exiftool exits 1 when it reports an error in its JSON; that error is the reason.
        if let parsed = try? JSONValue(parsing: exif.stdout), let first = parsed.arrayValue?.first, first.objectValue != nil {
            exifObject = first
            metadata.exiftoolJSON = exif.stdout
            if let error = first["ExifTool:Error"]?.stringValue {
                metadata.unavailable.append("metadata unavailable: exiftool: \(Self.line(error))")
            }
            if let warning = first["ExifTool:Warning"] {
                metadata.warnings = (warning.arrayValue ?? [warning]).compactMap(\.stringValue).map { "exiftool: " + Self.line($0) }
            }
            // The file is not what it was served as (a zip named .jpg): there is no image metadata to read.
            if let mime = first["File:MIMEType"]?.stringValue, !mime.hasPrefix(video ? "video/" : "image/"),
               !(video && mime.hasPrefix("audio/")), !(video && mime == "application/mp4") {
                let type = first["File:FileType"]?.stringValue ?? mime
                metadata.unavailable.append("metadata unavailable: the content is \(Self.line(type)) (\(Self.line(mime))), not \(video ? "a video" : "an image")")
            }
        } else {
            metadata.unavailable.append("metadata unavailable: exiftool: \(exif.failure ?? "output is not JSON")")
        }
        var probeObject: JSONValue?
        if video {
            let probe = try tool.run("ffprobe", ["-v", "error", "-print_format", "json", "-show_format", "-show_streams", "--", path].filter { $0 != "--" })
            if probe.failure == nil, let parsed = try? JSONValue(parsing: probe.stdout), parsed.objectValue != nil {
                probeObject = parsed
                metadata.ffprobeJSON = probe.stdout
            } else {
                metadata.unavailable.append("metadata unavailable: ffprobe: \(probe.failure ?? "output is not JSON")")
            }
        }
        metadata.summary = MediaSummary(exiftool: exifObject, ffprobe: probeObject)
        return metadata
    }

    static func line(_ text: String) -> String {
        String(text.split(whereSeparator: \.isNewline).first ?? "").prefix(300).description
    }
}

/// The facts an investigator asks of a photo or video first. Every value is a
/// string or integer (ledger subjects hold no floats): GPS in decimal degrees
/// written with six decimals, duration in seconds as ffprobe printed it.
public struct MediaSummary: Sendable, Equatable, Codable {
    public var mimeType: String?
    public var fileType: String?
    /// The original capture time as recorded (EXIF DateTimeOriginal with its offset, or QuickTime CreateDate).
    public var captureTime: String?
    public var latitude: String?
    public var longitude: String?
    public var altitude: String?
    public var make: String?
    public var model: String?
    public var software: String?
    /// XMP edit history, one "action by agent at time" line per step.
    public var editHistory: [String] = []
    public var width: Int?
    public var height: Int?
    public var duration: String?
    public var c2paPresent = false
    public var c2paClaimGenerator: String?

    enum CodingKeys: String, CodingKey {
        case mimeType = "mime_type", fileType = "file_type", captureTime = "capture_time", latitude, longitude, altitude
        case make, model, software, editHistory = "edit_history", width, height, duration
        case c2paPresent = "c2pa_present", c2paClaimGenerator = "c2pa_claim_generator"
    }

    public init() {}

    init(exiftool: JSONValue?, ffprobe: JSONValue?) {
        let tags = exiftool?.objectValue ?? [:]
        func text(_ names: String...) -> String? {
            for name in names {
                guard let value = tags[name] else { continue }
                if let string = Self.scalarText(value), !string.isEmpty { return string }
            }
            return nil
        }
        mimeType = text("File:MIMEType")
        fileType = text("File:FileType")
        if let time = text("EXIF:DateTimeOriginal", "XMP:DateTimeOriginal", "QuickTime:CreationDate", "QuickTime:CreateDate",
                           "EXIF:CreateDate", "XMP:CreateDate", "IPTC:DateCreated") {
            let offset = text("EXIF:OffsetTimeOriginal", "EXIF:OffsetTime")
            captureTime = offset.map { time.contains("+") || time.hasSuffix("Z") ? time : time + $0 } ?? time
        }
        latitude = Self.degrees(tags["Composite:GPSLatitude"] ?? Self.signed(tags["EXIF:GPSLatitude"], ref: tags["EXIF:GPSLatitudeRef"], negative: "S"))
        longitude = Self.degrees(tags["Composite:GPSLongitude"] ?? Self.signed(tags["EXIF:GPSLongitude"], ref: tags["EXIF:GPSLongitudeRef"], negative: "W"))
        altitude = Self.number(tags["Composite:GPSAltitude"] ?? tags["EXIF:GPSAltitude"], decimals: 1)
        make = text("EXIF:Make", "QuickTime:Make", "XMP:Make")
        model = text("EXIF:Model", "QuickTime:Model", "XMP:Model")
        software = text("EXIF:Software", "XMP:CreatorTool", "QuickTime:Software", "QuickTime:Encoder")
        if let history = tags["XMP:History"]?.arrayValue {
            editHistory = history.compactMap { step in
                let action = step["Action"].flatMap(Self.scalarText) ?? "?"
                let agent = step["SoftwareAgent"].flatMap(Self.scalarText)
                let when = step["When"].flatMap(Self.scalarText)
                return action + (agent.map { " by " + $0 } ?? "") + (when.map { " at " + $0 } ?? "")
            }
        } else if let actions = tags["XMP:HistoryAction"] {
            editHistory = (actions.arrayValue ?? [actions]).compactMap(Self.scalarText)
        }
        width = Self.integer(tags["File:ImageWidth"] ?? tags["PNG:ImageWidth"] ?? tags["RIFF:ImageWidth"] ?? tags["QuickTime:ImageWidth"])
        height = Self.integer(tags["File:ImageHeight"] ?? tags["PNG:ImageHeight"] ?? tags["RIFF:ImageHeight"] ?? tags["QuickTime:ImageHeight"])
        // Content credentials: ExifTool reads the JUMBF boxes that carry a C2PA manifest.
        let c2paKeys = tags.keys.filter { $0.hasPrefix("JUMBF:") || $0.hasPrefix("C2PA:") || $0.contains("C2PA") || $0.contains("Claim_generator") || $0.contains("ClaimGenerator") }
        c2paPresent = !c2paKeys.isEmpty
        if let key = c2paKeys.sorted().first(where: { $0.lowercased().contains("claimgenerator") || $0.lowercased().contains("claim_generator") }) {
            c2paClaimGenerator = tags[key].flatMap(Self.scalarText)
        }
        if let ffprobe {
            if let duration = ffprobe["format"]?["duration"]?.stringValue { self.duration = duration }
            if let stream = ffprobe["streams"]?.arrayValue?.first(where: { $0["codec_type"]?.stringValue == "video" }) {
                width = width ?? stream["width"]?.intValue.map(Int.init)
                height = height ?? stream["height"]?.intValue.map(Int.init)
            }
        }
    }

    static func scalarText(_ value: JSONValue) -> String? {
        switch value {
        case .string(let text): return MediaMetadata.line(text)
        case .integer(let number): return String(number)
        case .number(let number): return String(number)
        case .bool(let flag): return String(flag)
        default: return nil
        }
    }

    static func integer(_ value: JSONValue?) -> Int? {
        switch value {
        case .integer(let number)?: Int(number)
        case .number(let number)?: number.isFinite && abs(number) < 1e9 ? Int(number) : nil
        case .string(let text)?: Int(text)
        default: nil
        }
    }

    static func double(_ value: JSONValue?) -> Double? {
        switch value {
        case .integer(let number)?: Double(number)
        case .number(let number)?: number
        case .string(let text)?: Double(text)
        default: nil
        }
    }

    static func signed(_ value: JSONValue?, ref: JSONValue?, negative: String) -> JSONValue? {
        guard let number = double(value) else { return nil }
        let isNegative = ref.flatMap(scalarText)?.uppercased().hasPrefix(negative) ?? false
        return .number(isNegative ? -abs(number) : number)
    }

    static func degrees(_ value: JSONValue?) -> String? {
        guard let number = double(value), number.isFinite, abs(number) <= 180 else { return nil }
        return fixed(number, decimals: 6)
    }

    static func number(_ value: JSONValue?, decimals: Int) -> String? {
        guard let number = double(value), number.isFinite else { return nil }
        return fixed(number, decimals: decimals)
    }

    static func fixed(_ value: Double, decimals: Int) -> String {
        String(format: "%.\(decimals)f", value)
    }

    /// Reads back a summary written by ``json``.
    public init(json: JSONValue) {
        func text(_ key: String) -> String? { json[key]?.stringValue }
        mimeType = text("mime_type")
        fileType = text("file_type")
        captureTime = text("capture_time")
        latitude = json["gps"]?["latitude"]?.stringValue
        longitude = json["gps"]?["longitude"]?.stringValue
        altitude = json["gps"]?["altitude"]?.stringValue
        make = text("make")
        model = text("model")
        software = text("software")
        editHistory = json["edit_history"]?.arrayValue?.compactMap(\.stringValue) ?? []
        width = json["width"]?.intValue.map(Int.init)
        height = json["height"]?.intValue.map(Int.init)
        duration = text("duration")
        c2paPresent = json["c2pa_present"]?.boolValue ?? false
        c2paClaimGenerator = text("c2pa_claim_generator")
    }

    /// The summary as a ledger subject (only keys with a value).
    public var json: JSONValue {
        var object: [String: JSONValue] = [:]
        func put(_ key: String, _ value: String?) { if let value { object[key] = .string(value) } }
        put("mime_type", mimeType)
        put("file_type", fileType)
        put("capture_time", captureTime)
        if let latitude, let longitude {
            var gps: [String: JSONValue] = ["latitude": .string(latitude), "longitude": .string(longitude)]
            if let altitude { gps["altitude"] = .string(altitude) }
            object["gps"] = .object(gps)
        }
        put("make", make)
        put("model", model)
        put("software", software)
        if !editHistory.isEmpty { object["edit_history"] = .array(editHistory.map { .string($0) }) }
        if let width { object["width"] = .integer(Int64(width)) }
        if let height { object["height"] = .integer(Int64(height)) }
        put("duration", duration)
        object["c2pa_present"] = .bool(c2paPresent)
        put("c2pa_claim_generator", c2paClaimGenerator)
        return .object(object)
    }
}
