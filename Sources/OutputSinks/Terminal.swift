import Glibc

// The terminal state to put back, in globals so that a signal handler can reach it. Written only
// by the main thread before the handlers are installed (and cleared by `restoreTerminalNow`);
// a handler only reads them and calls write(2) and tcsetattr(3), both async-signal-safe.
nonisolated(unsafe) private var savedTermios = termios()
nonisolated(unsafe) private var terminalIsRaw: Int32 = 0

/// Show the cursor, leave the alternate screen, reset colours.
private let restoreSequence: StaticString = "\u{1B}[0m\u{1B}[?25h\u{1B}[?1049l"

/// Puts the terminal back (the screen, then the line discipline). Idempotent; async-signal-safe.
private func restoreTerminalNow() {
    guard terminalIsRaw == 1 else { return }
    terminalIsRaw = 0
    _ = Glibc.write(STDOUT_FILENO, restoreSequence.utf8Start, restoreSequence.utf8CodeUnitCount)
    _ = tcsetattr(STDIN_FILENO, TCSANOW, &savedTermios)
}

/// `top`'s full-screen terminal, plain ANSI escape sequences and termios (no ncurses: the screen is
/// a list of lines redrawn once an interval, which needs only cursor-home, clear-to-end-of-line,
/// the alternate screen and raw keys; and owning the termios state ourselves makes restoring it
/// from a crash signal handler possible, which curses' `endwin` is not: it is not
/// async-signal-safe). Raw mode keeps ISIG, so Ctrl-C still raises SIGINT, which stops the run
/// through the usual signal trap and the normal exit path restores the terminal. Crash signals
/// (SIGSEGV, SIGBUS, SIGILL, SIGABRT, SIGFPE, SIGTRAP) restore it in their handler, then die by the
/// same signal.
public final class TopTerminal {
    static let crashSignals = [SIGSEGV, SIGBUS, SIGILL, SIGABRT, SIGFPE, SIGTRAP]
    private var lastSize = (width: 0, height: 0)

    /// A terminal on both standard input (keys) and standard output (the screen), or nil.
    public init?() {
        guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else { return nil }
        guard tcgetattr(STDIN_FILENO, &savedTermios) == 0 else { return nil }
    }

    deinit { restore() }

    /// Raw keys without echo, the alternate screen, no cursor; crash handlers that undo it.
    public func enter() {
        var raw = savedTermios
        raw.c_lflag &= ~tcflag_t(ICANON | ECHO)
        withUnsafeMutableBytes(of: &raw.c_cc) { cc in
            cc[Int(VMIN)] = 0
            cc[Int(VTIME)] = 0
        }
        terminalIsRaw = 1
        _ = tcsetattr(STDIN_FILENO, TCSANOW, &raw)
        for sig in Self.crashSignals {
            signal(sig) { sig in
                restoreTerminalNow()
                signal(sig, SIG_DFL)
                raise(sig)
            }
        }
        send("\u{1B}[?1049h\u{1B}[?25l\u{1B}[H\u{1B}[2J")
    }

    /// Undoes `enter` (idempotent).
    public func restore() {
        restoreTerminalNow()
    }

    /// The window size (80x24 when the terminal does not say).
    public func size() -> (width: Int, height: Int) {
        var ws = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_col > 0, ws.ws_row > 0 {
            return (Int(ws.ws_col), Int(ws.ws_row))
        }
        return (80, 24)
    }

    /// Whether the size changed since the last call (a resize: redraw at once).
    public func resized() -> Bool {
        let now = size()
        defer { lastSize = now }
        return now != lastSize
    }

    /// The keys pressed since the last call (never blocks).
    public func keys() -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 64)
        let n = buffer.withUnsafeMutableBytes { Glibc.read(STDIN_FILENO, $0.baseAddress, $0.count) }
        return n > 0 ? Array(buffer[0..<n]) : []
    }

    /// Draws the lines from the top-left corner, clearing what each line leaves and what is below.
    public func draw(_ lines: [String]) {
        var text = "\u{1B}[H"
        for (i, line) in lines.enumerated() {
            text += line + "\u{1B}[K"
            if i < lines.count - 1 { text += "\r\n" }
        }
        send(text + "\u{1B}[J")
    }

    private func send(_ text: String) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes {
                Glibc.write(STDOUT_FILENO, $0.baseAddress! + offset, $0.count - offset)
            }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            offset += n
        }
        bytes.removeAll()
    }
}
