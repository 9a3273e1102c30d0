import MediaEvidence

// Media analysis in the provenance graph (DESIGN §19): the metadata of an image or video as
// facets of its payload, and its PDQ perceptual hash as an annotation of it.
//
// - `uco-observable:RasterPictureFacet` carries an image's width and height (pictureWidth,
//   pictureHeight), the only picture properties UCO 1.4 types;
// - `uco-observable:EXIFFacet` carries the rest as its `exifData`, a ControlledDictionary of
//   EXIF tag names (DateTimeOriginal, GPSLatitude, Make, Model, Software …) and their values,
//   GPS in decimal degrees; the dictionary and each entry have an IRI, as the shapes require;
// - the PDQ hash is not a `types:Hash`: UCO 1.4's HashNameVocab has no PDQ, and a hashMethod
//   outside it is an Info ("Value is not member of the vocabulary HashNameVocab") that makes
//   `case_validate` print `Conforms: False`. It is a `uco-core:Annotation` of the payload
//   instead, whose statement names the method, the 256-bit value in hex and its quality.

extension GraphBuilder {
    /// The facets media analysis adds to an artifact's payload; none for other artifacts.
    func mediaFacets(of artifact: BundleFacts.Artifact) -> [LD] {
        guard let media = artifact.media else { return [] }
        let owner = "payload/\(artifact.id)"
        let summary = media.summary
        var facets: [LD] = []
        if media.kind == "image", let width = summary.width, let height = summary.height {
            facets.append(.object([
                ("@id", .string(id("raster-picture-facet", owner))),
                ("@type", "uco-observable:RasterPictureFacet"),
                ("uco-observable:pictureWidth", .integer(Int64(width))),
                ("uco-observable:pictureHeight", .integer(Int64(height))),
            ]))
        }
        var tags: [(String, String)] = []
        func put(_ key: String, _ value: String?) { if let value, !value.isEmpty { tags.append((key, value)) } }
        put("DateTimeOriginal", summary.captureTime)
        put("GPSLatitude", summary.latitude)
        put("GPSLongitude", summary.longitude)
        put("GPSAltitude", summary.altitude)
        put("Make", summary.make)
        put("Model", summary.model)
        put("Software", summary.software)
        put("ImageWidth", summary.width.map(String.init))
        put("ImageHeight", summary.height.map(String.init))
        put("Duration", summary.duration)
        put("History", summary.editHistory.isEmpty ? nil : summary.editHistory.joined(separator: "; "))
        put("C2PAClaimGenerator", summary.c2paClaimGenerator)
        if summary.c2paPresent { put("C2PAPresent", "true") }
        guard !tags.isEmpty else { return facets }
        let entries: [LD] = tags.map { key, value in
            .object([
                ("@id", .string(id("exif-entry", "\(owner)/\(key)"))),
                ("@type", "uco-types:ControlledDictionaryEntry"),
                ("uco-types:key", .string(key)),
                ("uco-types:value", .string(value)),
            ])
        }
        facets.append(.object([
            ("@id", .string(id("exif-facet", owner))),
            ("@type", "uco-observable:EXIFFacet"),
            ("uco-observable:exifData", .object([
                ("@id", .string(id("exif-data", owner))),
                ("@type", "uco-types:ControlledDictionary"),
                ("uco-types:entry", .array(entries)),
            ])),
        ]))
        return facets
    }

    /// An annotation of the payload with its PDQ hash (or the video's keyframe count, or
    /// why there is none, or why metadata is unavailable), naming the analysis entry.
    mutating func addMediaAnnotation(of artifact: BundleFacts.Artifact, payload: String) {
        guard let media = artifact.media else { return }
        var parts: [String] = []
        if let pdq = media.pdq {
            parts.append("PDQ perceptual hash (hashMethod PDQ, 256 bits, hex) \(pdq), quality \(media.quality ?? 0)")
        } else if media.frames > 0 {
            parts.append("PDQ perceptual hashes of \(media.frames) video keyframes, in the analysis's WARC metadata record")
        } else if let reason = media.hashUnavailable {
            parts.append("no PDQ hash: \(reason)")
        }
        parts += media.unavailable
        let statement = "Media analysis of \(artifact.id) (\(media.kind), ledger entry \(media.seq))"
            + (parts.isEmpty ? "" : ": " + parts.joined(separator: "; "))
        add(.observables, [
            ("@id", .string(id("annotation", "media/\(artifact.id)"))),
            ("@type", "uco-core:Annotation"),
            ("uco-core:statement", .string(statement)),
            ("uco-core:object", .array([ref(payload)])),
        ])
    }
}
