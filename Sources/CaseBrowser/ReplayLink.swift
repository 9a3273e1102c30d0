/// Where the artifact page's sandboxed replay frame points.
public enum ReplayLink {
    /// The artifact's own response record, alone: `/cases/<ID>/artifacts/<A>/replay`.
    public static func source(caseID: String, artifactID: String) -> String {
        "/cases/\(caseID)/artifacts/\(artifactID)/replay"
    }

    /// The route form the replay frame uses, `/cases/<ID>/artifacts/<A>/replay/<URL>`:
    /// the archived URL is in the path, so whatever the frame asks for under it
    /// (the page, and the images ``ReplayImageLinks`` points there) names the
    /// capture to answer from the WARC files, in the context of artifact `A`.
    public static func page(caseID: String, artifactID: String, url: String) -> String {
        source(caseID: caseID, artifactID: artifactID) + "/" + url
    }

    /// The frame's `src` for an artifact: the route form of the URL its response
    /// record was captured from (the record alone when that is no http(s) URL).
    public static func frame(caseID: String, artifact: BrowserArtifact) -> String {
        let url = artifact.responseRecord?.targetURI ?? artifact.finalURL ?? artifact.url
        let scheme = url.lowercased()
        guard scheme.hasPrefix("http://") || scheme.hasPrefix("https://") else {
            return source(caseID: caseID, artifactID: artifact.id)
        }
        return page(caseID: caseID, artifactID: artifact.id, url: url)
    }
}
