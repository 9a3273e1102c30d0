import ChainOfCustody
public import LawfulFetch

/// Browser capture sits above the capture job (DESIGN §15): a job whose options ask for
/// the browser gets its pages loaded through this module.
extension CaptureJob {
    /// This job with browser capture linked in: when its options ask for the browser,
    /// each page loads in headless Chromium while the job's engine fetches every request
    /// (DESIGN §17). A job without it refuses browser captures.
    public func loadingPagesInChromium() -> CaptureJob {
        var job = self
        job.browserPass = { run, addresses, policy, progress throws(ExhibitError) in
            try run.captureInBrowser(addresses, policy: policy, progress: progress)
        }
        return job
    }
}
