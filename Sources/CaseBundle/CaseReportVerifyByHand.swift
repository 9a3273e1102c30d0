// Section 6 of the report: the commands a recipient runs to check the bundle without Exhibit
// (bagit, sha256sum, warcio, python3, openssl, case_validate).

extension CaseReport {
    static func howToVerifySection(_ facts: BundleFacts) -> String {
        var out = "<section id=\"verify-by-hand\">\n<h2>6. How to verify this bundle by hand</h2>\n"
        out += """
            <p>None of these steps needs Exhibit. Replace <code>&lt;bag&gt;</code> with the full path of the unpacked \
            bundle's folder (the one holding <code>bagit.txt</code>), so that every block can start with \
            <code>cd &lt;bag&gt;</code> and be run on its own. Python tools install with <code>pip install</code> \
            (in a virtual environment if the system asks for one); the signature steps need OpenSSL 3.0 or later.</p>\n
            """

        out += "<h3>a. Every file is complete and unchanged (BagIt, RFC 8493)</h3>\n"
        out += pre("""
            pip install bagit
            python3 -m bagit --validate <bag>
            """)
        out += "<p>The same check with coreutils alone (payload files, then the tag files such as "
        out += "<code>bag-info.txt</code>); every line must end in <code>OK</code>:</p>\n"
        out += pre("""
            cd <bag> && sha256sum -c manifest-sha256.txt
            sha256sum -c tagmanifest-sha256.txt
            """)

        out += "<h3>b. The web archive records are intact (WARC)</h3>\n"
        out += pre("""
            pip install warcio
            cd <bag> && warcio check -v data/warc/*.warc.gz
            """)

        out += "<h3>c. The ledger is one unbroken chain ending at the ledger head</h3>\n"
        out += """
            <p>Each entry's <code>hash</code> is the SHA-256 of its fields <code>action, actor, case, prev, seq, \
            subject_digest, time</code> as canonical JSON (keys sorted, no spaces), and its <code>prev</code> is the hash \
            of the entry before (64 zeros for the first). This prints one line per entry and the last hash, which must be \
            <code class="wrap">\(text(facts.ledgerHead))</code>. It also writes each entry's hash, signature and \
            actor to a scratch folder for step d.</p>\n
            """
        out += pre(#"""
            cd <bag>
            W=$(mktemp -d)
            python3 - data/ledger.jsonl "$W" <<'EOF'
            import hashlib, json, sys
            prev = "0" * 64
            for n, line in enumerate(open(sys.argv[1], encoding="utf-8"), 1):
                e = json.loads(line)
                chained = {k: e[k] for k in ("seq", "time", "case", "actor", "action", "subject_digest", "prev")}
                canonical = json.dumps(chained, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
                ok = e["seq"] == n and e["prev"] == prev and hashlib.sha256(canonical.encode()).hexdigest() == e["hash"]
                print("seq", e["seq"], "chained" if ok else "BROKEN")
                for suffix, value in (("hash", e["hash"]), ("sig.b64", e["sig"]), ("actor", e["actor"])):
                    open(f"{sys.argv[2]}/{n}.{suffix}", "w").write(value)
                prev = e["hash"]
            print("last hash:", prev)
            EOF
            """#)

        out += "<h3>d. Each ledger entry was signed by its actor (Ed25519)</h3>\n"
        out += "<p>The signed message is the 64 hex characters of the entry's <code>hash</code>, with no newline; the "
        out += "signature is the entry's <code>sig</code>, base64-encoded; the actors' public keys are "
        out += "<code>data/keys/&lt;actor&gt;.pem</code>. "
        if let last = facts.timeline.last {
            out += "For the last entry (seq \(last.seq), by <code>\(text(last.actor))</code>), after step c:</p>\n"
            out += pre("""
                cd <bag>
                base64 -d "$W/\(last.seq).sig.b64" > "$W/\(last.seq).sig"
                openssl pkeyutl -verify -pubin -inkey data/keys/\(shellWord(last.actor)).pem -rawin -in "$W/\(last.seq).hash" -sigfile "$W/\(last.seq).sig"
                """)
        } else {
            out += "For entry N by actor A, after step c:</p>\n"
            out += pre("""
                cd <bag>
                base64 -d "$W/N.sig.b64" > "$W/N.sig"
                openssl pkeyutl -verify -pubin -inkey data/keys/A.pem -rawin -in "$W/N.hash" -sigfile "$W/N.sig"
                """)
        }
        out += "<p>OpenSSL prints <code>Signature Verified Successfully</code>. Every entry at once:</p>\n"
        out += pre(#"""
            cd <bag>
            for h in "$W"/*.hash; do
              n=$(basename "$h" .hash); actor=$(cat "$W/$n.actor")
              base64 -d "$W/$n.sig.b64" > "$W/$n.sig"
              printf 'seq %s (%s): ' "$n" "$actor"
              openssl pkeyutl -verify -pubin -inkey "data/keys/$actor.pem" -rawin -in "$h" -sigfile "$W/$n.sig"
            done
            """#)
        out += "<p class=\"note\">A valid signature shows that the holder of the actor's private key signed the entry, as far "
        out += "as the public key is trusted: compare the keys in <code>data/keys/</code> with copies obtained from the agency.</p>\n"

        out += "<h3>e. Trusted timestamps (RFC 3161)</h3>\n"
        // Only files that are in the bag: listing a command for a token that is absent
        // would send the reader looking for something that was never there.
        let tokens = facts.files.map(\.path).filter { $0.hasPrefix("data/timestamps/") && $0.hasSuffix(".tsr") }.sorted()
        if tokens.isEmpty {
            out += "<p>This bundle holds no timestamp tokens. Where a bundle has them, each "
            out += "<code>data/timestamps/N.tsr</code> is checked with:</p>\n"
            out += pre("""
                cd <bag> && openssl ts -verify -in data/timestamps/N.tsr -queryfile data/timestamps/N.tsq -CAfile data/timestamps/N.ca.pem
                """)
        } else {
            out += "<p>Each token is checked against its request and the authority's CA certificate stored beside it; "
            out += "OpenSSL prints <code>Verification: OK</code>:</p>\n"
            var commands = "cd <bag>\n"
            for token in tokens {
                let stem = String(token.dropLast(".tsr".count))
                commands += "openssl ts -verify -in \(shellWord(token)) -queryfile \(shellWord(stem + ".tsq")) "
                commands += "-CAfile \(shellWord(stem + ".ca.pem"))\n"
            }
            out += pre(commands)
        }
        out += """
            <p class="note">A token proves that the ledger up to the head it covers existed at the time it states; \
            <code>openssl ts -query -in data/timestamps/N.tsq -text</code> shows that head as the message imprint. \
            Compare the stored CA certificate with the authority's published one before relying on it.</p>\n
            """

        out += "<h3>f. The provenance graph is valid CASE/UCO</h3>\n"
        out += pre("""
            pip install case-utils
            cd <bag> && case_validate --built-version case-1.4.0 data/provenance.jsonld
            """)
        out += "<p class=\"note\">It describes each capture as an investigative action with its performer, instrument, URL and "
        out += "the SHA-256 of every file it produced, and works offline.</p>\n"
        out += "</section>\n"
        return out
    }
}
