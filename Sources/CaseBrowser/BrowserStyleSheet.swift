// The case browser's one style sheet, served at /assets/browser.css.

extension BrowserPages {
    /// The style sheet at `/assets/browser.css`: the report's sober look, with
    /// system font stacks only (a web font would be a network request).
    public static let styleSheet = """
        :root { color-scheme: light; }
        html { background: #fff; color: #111; }
        body { font: 15px/1.45 "Segoe UI", "Helvetica Neue", "Liberation Sans", "DejaVu Sans", Arial, sans-serif; margin: 0; }
        code, .mono { font-family: "DejaVu Sans Mono", "Liberation Mono", Menlo, Consolas, monospace; font-size: 0.86em; }
        header.bar { background: #1d2b3a; color: #fff; padding: 0.6rem 1.5rem; display: flex; gap: 1.2rem; align-items: baseline; flex-wrap: wrap; }
        header.bar a { color: #fff; font-weight: 700; text-decoration: none; }
        header.bar .who { margin-left: auto; font-size: 0.9rem; }
        main { max-width: 76rem; margin: 1.2rem auto 2rem; padding: 0 1.5rem; }
        h1 { font-size: 1.5rem; margin: 0.4rem 0 0.6rem; }
        h2 { font-size: 1.15rem; margin: 1.8rem 0 0.5rem; padding-bottom: 0.2rem; border-bottom: 1px solid #888; }
        table { border-collapse: collapse; width: 100%; margin: 0.4rem 0 1rem; }
        th, td { text-align: left; vertical-align: top; padding: 0.25rem 0.5rem; border: 1px solid #c8c8c8; }
        thead th { background: #eee; }
        table.facts th { width: 13rem; background: #f5f5f5; font-weight: 600; }
        .wrap { overflow-wrap: anywhere; word-break: break-all; }
        .nowrap { white-space: nowrap; }
        .muted { color: #555; }
        .note { font-size: 0.88rem; color: #444; }
        .flag { display: inline-block; padding: 0 0.4em; border-radius: 3px; font-size: 0.85em; font-weight: 600; }
        .flag.open { background: #e6f0fa; color: #1d4f80; }
        .flag.closed { background: #eee; color: #333; }
        .flag.hold { background: #fdecc8; color: #7a4b00; }
        .flag.imported { background: #efe6fa; color: #4b1d80; }
        .result { border: 2px solid #111; padding: 0.5rem 0.8rem; font-weight: 600; margin: 0.6rem 0; overflow-wrap: anywhere; }
        .result.intact { border-color: #2d6a2d; background: #f1f8f1; }
        .result.failed { border-color: #a40000; background: #fbeeee; }
        .findings li { font-family: "DejaVu Sans Mono", "Liberation Mono", Menlo, Consolas, monospace; font-size: 0.86em; overflow-wrap: anywhere; }
        .actions { display: flex; gap: 0.8rem; flex-wrap: wrap; align-items: center; margin: 0.4rem 0 1rem; }
        .actions form { margin: 0; }
        button { font: inherit; padding: 0.3rem 0.9rem; border: 1px solid #1d2b3a; background: #f3f6f9; border-radius: 3px; cursor: pointer; }
        figure.shot { margin: 0.6rem 0 1rem; }
        figure.shot .frame { max-height: 48rem; overflow: auto; border: 1px solid #888; display: inline-block; max-width: 100%; }
        figure.shot img { display: block; max-width: 100%; height: auto; }
        figure.thumb img { max-width: 320px; max-height: 240px; width: auto; height: auto; object-fit: contain; object-position: top; border: 1px solid #888; }
        figcaption { font-size: 0.85rem; color: #444; }
        form.filter { display: flex; flex-wrap: wrap; gap: 0.6rem 1rem; align-items: flex-end; margin: 0.4rem 0 0.8rem;
                      padding: 0.6rem 0.8rem; background: #f5f7f9; border: 1px solid #d5dbe1; }
        form.filter label { display: flex; flex-direction: column; font-size: 0.85rem; color: #333; gap: 0.15rem; }
        form.filter input, form.filter select { font: inherit; padding: 0.2rem 0.35rem; border: 1px solid #999; border-radius: 2px; }
        form.filter input[name=url], form.filter input[name=q] { width: 16rem; }
        nav.pages { display: flex; flex-wrap: wrap; gap: 0.35rem 0.8rem; align-items: baseline; margin: 0.3rem 0 0.8rem; font-size: 0.92rem; }
        nav.pages .current { font-weight: 700; }
        td.snippet { font-size: 0.88rem; color: #333; overflow-wrap: anywhere; }
        iframe.replay { width: 100%; height: 40rem; border: 2px solid #1d2b3a; background: #fff; }
        .cc { font-family: "DejaVu Sans Mono", monospace; font-size: 0.72em; border: 1px solid #a40000; color: #a40000; padding: 0 0.15em; border-radius: 2px; }
        footer { max-width: 76rem; margin: 0 auto 2rem; padding: 0.4rem 1.5rem 0; border-top: 1px solid #888; font-size: 0.85rem; color: #444; }
        """
}
