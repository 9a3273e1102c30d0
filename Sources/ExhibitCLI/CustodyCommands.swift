import ArgumentParser
import CaseManagement
import ChainOfCustody
import Foundation
import LawfulFetch

struct TimestampCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "timestamp",
        abstract: "Get an RFC 3161 trusted timestamp over the case's ledger head (custodian).",
        discussion: """
        The token, the request and the CA file are stored under timestamps/<seq> and \
        recorded as a `timestamp` entry; `exhibit verify` re-checks them, and so does \
        `openssl ts -verify -in timestamps/N.tsr -queryfile timestamps/N.tsq -CAfile timestamps/N.ca.pem`.
        """)

    @OptionGroup var options: CaseOptions
    @Option(name: .long, help: "The time-stamping authority's URL (default: default_tsa in workspace.json).") var tsa: String?
    @Option(name: .long, help: "The CA certificate(s) (PEM) the authority's certificate chains to.") var caFile: String?

    func run() throws {
        let job = try TimestampJob(session: try options.session(), caseID: options.caseID, tsaURL: tsa, caFile: caFile)
        let result = try job.run()
        if options.json {
            try Console.json(result)
        } else {
            Console.line("\(result.caseID): ledger head seq \(result.coversSeq) (\(result.ledgerHead)) timestamped at \(result.genTime), serial \(result.serial); token \(result.token), entry seq \(result.seq)")
        }
    }
}

struct TransferCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transfer", abstract: "Hand custody of a case to another custodian (custodian).")

    @OptionGroup var options: CaseOptions
    @Option(name: .long, help: "The custodian who takes custody.") var to: String
    @Option(name: .long, help: "Why custody changes hands.") var reason: String

    func run() throws {
        try options.record { try $0.transfer($1, to: to, reason: reason) }
    }
}
