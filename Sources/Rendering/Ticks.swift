/// A tick value held exactly as `mantissa × 10^exponent`, so its label never shows float noise
/// (`0.30000000000000004`): the label is made from the integers, not from the `Double`.
public struct Tick: Sendable, Equatable {
    public var mantissa: Int64
    public var exponent: Int

    public init(mantissa: Int64, exponent: Int) {
        self.mantissa = mantissa
        self.exponent = exponent
    }

    /// The value as a `Double` (for positioning only).
    public var value: Double {
        var v = Double(mantissa)
        if exponent >= 0 {
            for _ in 0..<exponent { v *= 10 }
        } else {
            // Divide by the exact power of ten (as d3 does with its inverse step) to stay exact.
            var p = 1.0
            for _ in 0..<(-exponent) { p *= 10 }
            v /= p
        }
        return v
    }

    /// Plain decimal label: `0`, `250`, `0.05`, `-1.5`.
    public var label: String {
        var out: [UInt8] = []
        Tick.appendDecimal(mantissa, exponent, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Label with an SI suffix when the value is 1000 or more: `500`, `1.5k`, `20M`, `1G`.
    public var siLabel: String {
        let m = mantissa.magnitude
        var digits = 0
        var t = m
        while t > 0 {
            digits += 1
            t /= 10
        }
        let magnitude = digits - 1 + exponent  // floor(log10(|value|))
        guard m != 0, magnitude >= 3 else { return label }
        let group = min(6, magnitude / 3)
        let suffix = ["", "k", "M", "G", "T", "P", "E"][group]
        var out: [UInt8] = []
        Tick.appendDecimal(mantissa, exponent - 3 * group, into: &out)
        out.append(contentsOf: suffix.utf8)
        return String(decoding: out, as: UTF8.self)
    }

    static func appendDecimal(_ mantissa: Int64, _ exponent: Int, into out: inout [UInt8]) {
        if mantissa < 0 { out.append(UInt8(ascii: "-")) }
        var m = mantissa.magnitude
        var e = exponent
        // Normalise: strip trailing zeros of the mantissa into the exponent.
        while m != 0, m % 10 == 0 {
            m /= 10
            e += 1
        }
        if m == 0 {
            out.append(UInt8(ascii: "0"))
            return
        }
        var digits: [UInt8] = []
        var t = m
        while t > 0 {
            digits.append(UInt8(t % 10) + 48)
            t /= 10
        }
        digits.reverse()
        if e >= 0 {
            out.append(contentsOf: digits)
            out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: e))
        } else {
            let frac = -e
            if digits.count > frac {
                out.append(contentsOf: digits[..<(digits.count - frac)])
                out.append(UInt8(ascii: "."))
                out.append(contentsOf: digits[(digits.count - frac)...])
            } else {
                out.append(contentsOf: [UInt8(ascii: "0"), UInt8(ascii: ".")])
                out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: frac - digits.count))
                out.append(contentsOf: digits)
            }
        }
    }
}

/// "Nice" ticks: multiples of 1, 2 or 5 × 10^k covering `[start, stop]`, about `count` of them.
/// The algorithm of d3-array's `ticks` (`tickSpec`): pick the power of ten and the factor from
/// the raw step, then count in integers, so values are `i × step` computed exactly.
public enum Ticks {
    /// The ticks inside `[start, stop]` (inclusive), in increasing order. Empty for a non-finite or
    /// reversed domain; a single tick when `start == stop`.
    public static func ticks(_ start: Double, _ stop: Double, count: Int) -> [Tick] {
        guard start.isFinite, stop.isFinite, count > 0, start <= stop else { return [] }
        guard let spec = spec(start, stop, Double(count)) else {
            if start == stop, let t = spec(start - 1, start + 1, 2)?.step {
                // Degenerate domain: one tick at the value when it is a multiple of a nice step.
                let i = (start / t.value).rounded()
                if i * t.value == start { return [Tick(mantissa: Int64(i) * t.mantissa, exponent: t.exponent)] }
            }
            return []
        }
        if spec.i2 < spec.i1 { return [] }
        return (spec.i1...spec.i2).map { Tick(mantissa: $0 * spec.step.mantissa, exponent: spec.step.exponent) }
    }

    /// The step between ticks (a nice `1, 2, 5 × 10^k`), or nil for a degenerate domain.
    public static func step(_ start: Double, _ stop: Double, count: Int) -> Tick? {
        spec(start, stop, Double(count))?.step
    }

    /// The domain extended outward to whole steps of the tick step: `nice(0, 1437, 5)` is
    /// `(0, 1600)`. One round only (d3's `linear.nice` repeats until the step settles, which can
    /// grow a 1,514-byte axis to 2,000; one round keeps the data filling the panel).
    public static func nice(_ start: Double, _ stop: Double, count: Int) -> (Double, Double) {
        guard start.isFinite, stop.isFinite, start < stop, count > 0,
            let step = spec(start, stop, Double(count))?.step
        else { return (start, stop) }
        let s = step.value
        return ((start / s).rounded(.down) * s, (stop / s).rounded(.up) * s)
    }

    private static func spec(_ start: Double, _ stop: Double, _ count: Double) -> (i1: Int64, i2: Int64, step: Tick)? {
        let raw = (stop - start) / max(0, count)
        guard raw > 0, raw.isFinite else { return nil }
        // power = floor(log10(raw)) without a math library, by counting.
        var power = 0
        var p = 1.0
        if raw >= 1 {
            while p * 10 <= raw {
                p *= 10
                power += 1
            }
        } else {
            while p > raw {
                p /= 10
                power -= 1
            }
        }
        let error = raw / p
        let factor: Int64 =
            error >= 7.0710678118654755 ? 10 : error >= 3.1622776601683795 ? 5 : error >= 1.4142135623730951 ? 2 : 1
        var i1: Double
        var i2: Double
        let step: Tick
        if power < 0 {
            // Count in units of the inverse step (10^-power / factor) so the division is exact.
            var inv = 1.0
            for _ in 0..<(-power) { inv *= 10 }
            inv /= Double(factor)
            i1 = (start * inv).rounded()
            i2 = (stop * inv).rounded()
            if i1 / inv < start { i1 += 1 }
            if i2 / inv > stop { i2 -= 1 }
            // value = i / inv = i * factor * 10^power
            step = Tick(mantissa: factor, exponent: power)
        } else {
            var inc = 1.0
            for _ in 0..<power { inc *= 10 }
            inc *= Double(factor)
            i1 = (start / inc).rounded()
            i2 = (stop / inc).rounded()
            if i1 * inc < start { i1 += 1 }
            if i2 * inc > stop { i2 -= 1 }
            step = Tick(mantissa: factor, exponent: power)
        }
        if i2 < i1, 0.5 <= count, count < 2 { return spec(start, stop, count * 2) }
        guard abs(i1) < 1e15, abs(i2) < 1e15 else { return nil }
        return (Int64(i1), Int64(i2), step)
    }
}

/// A linear map from a data domain to a pixel range (leather's `Linear` scale).
public struct LinearScale: Sendable, Equatable {
    public var domain: (Double, Double)
    public var range: (Double, Double)

    public init(domain: (Double, Double), range: (Double, Double)) {
        self.domain = domain
        self.range = range
    }

    public func callAsFunction(_ v: Double) -> Double {
        let d = domain.1 - domain.0
        guard d != 0, d.isFinite else { return (range.0 + range.1) / 2 }
        return range.0 + (v - domain.0) / d * (range.1 - range.0)
    }

    public static func == (a: LinearScale, b: LinearScale) -> Bool {
        a.domain == b.domain && a.range == b.range
    }
}
