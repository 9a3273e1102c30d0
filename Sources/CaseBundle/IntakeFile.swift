import CaseManagement
import ChainOfCustody
import Foundation
import WARC

/// Intake of any other file (a witness's photo, a platform's data return):
/// stored as a blob exactly as received, and sealed in a WARC of its own as a
/// `resource` record (DESIGN §14, §20) whose warcinfo says who took it in,
/// from whom and how it reached them. Nothing came with it to check it against;
/// its sha256 from receipt on is what every later check holds it to.
enum FileIntake {
    static func prepare(_ path: String, _ context: IntakeContext) throws(ExhibitError) -> EvidenceIntake.Prepared {
        let stagedBlob = context.staging + "/blob"
        let (digests, size) = try IntakeCopy.copy(from: path, to: stagedBlob)
        let sha256 = digests[.sha256]!
        let blob = EvidenceFiles.blobPath(sha256: sha256)
        let warcName = context.importID + ".warc.gz"
        let relative = "warc/" + warcName
        let writer = try WARCWriter(finalPath: context.staging + "/" + warcName)
        var extra: [(String, String)] = [("source", context.receipt.source), ("received-by", context.session.actor.id)]
        if let from = context.receipt.receivedFrom { extra.append(("received-from", from)) }
        if let at = context.receipt.receivedAt { extra.append(("received-at", at)) }
        extra.append(("original-file-name", uriEncoded(context.name)))
        let info = EvidenceFiles.warcinfo(
            fileName: warcName, session: context.session, caseID: context.caseID, jobField: ("import", context.importID),
            software: "Exhibit/\(ExhibitRelease.version)", extra: extra)
        let contentType = mediaType(forName: context.name)
        let target = "urn:exhibit:import:\(context.importID)/\(uriEncoded(context.name))"
        let received = LedgerTime.now()
        var written: [WrittenRecord] = []
        do throws(ExhibitError) {
            written.append(try writer.write(info))
            written.append(try writer.write(WARCRecord(
                type: "resource", date: received, targetURI: target, contentType: contentType,
                fields: [("WARC-Warcinfo-ID", info.recordID)], payloadSHA256: sha256,
                block: .init(head: [], spoolPath: stagedBlob, spoolLength: size, sha256: sha256))))
        } catch {
            writer.discard()
            throw error
        }
        let (warcSHA256, warcSize) = try writer.seal()
        let resource = written[1]
        let subject: [String: JSONValue] = [
            "blob": .object(["path": .string(blob), "sha256": .string(sha256), "size": .integer(size)]),
            "warc": .object(["file": .string(relative), "sha256": .string(warcSHA256), "size": .integer(warcSize)]),
            "records": .array(written.map(\.json)),
            "artifacts": .array([.object([
                "record": .string(resource.id), "record_type": .string("resource"), "url": .string(target),
                "time": .string(received), "status": .null, "content_type": .string(contentType),
                "sha256": .string(sha256), "size": .integer(size), "warc": .string(relative),
                "offset": .integer(resource.offset), "blob": .string(blob),
            ])]),
            "check": .object([
                "verdict": .string("recorded"),
                "detail": .string("no digest came with the file; its sha256 at receipt is recorded"),
            ]),
        ]
        return EvidenceIntake.Prepared(
            name: context.name, kind: "file", sha256: sha256, size: size, subject: subject,
            files: [.init(path: stagedBlob, relative: blob, isBlob: true), .init(path: writer.temporaryPath, relative: relative, isBlob: false)],
            artifactCount: 1, check: "no digest came with the file; stored as received with its sha256 and sealed as a WARC resource record")
    }

    /// A name as it may stand in a URI or a WARC header line: unreserved
    /// characters as they are, everything else percent-encoded (RFC 3986 §2.3).
    static func uriEncoded(_ name: String) -> String {
        let allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        return name.addingPercentEncoding(withAllowedCharacters: allowed) ?? "file"
    }

    /// The media type by file extension; application/octet-stream when unknown.
    static func mediaType(forName name: String) -> String {
        let types: [String: String] = [
            "jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif", "webp": "image/webp",
            "heic": "image/heic", "tif": "image/tiff", "tiff": "image/tiff", "bmp": "image/bmp", "svg": "image/svg+xml",
            "mp4": "video/mp4", "m4v": "video/mp4", "mov": "video/quicktime", "webm": "video/webm", "mkv": "video/x-matroska",
            "mp3": "audio/mpeg", "m4a": "audio/mp4", "wav": "audio/wav", "ogg": "audio/ogg", "pdf": "application/pdf",
            "html": "text/html", "htm": "text/html", "txt": "text/plain", "csv": "text/csv", "json": "application/json",
            "xml": "application/xml", "zip": "application/zip", "eml": "message/rfc822",
        ]
        let ext = (name as NSString).pathExtension.lowercased()
        return types[ext] ?? "application/octet-stream"
    }
}
