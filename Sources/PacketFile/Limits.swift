/// The sanity limits libpcap 1.10 applies to capture files, so that we accept and reject the same
/// files it does (pcap-common.c `max_snaplen_for_dlt`, savefile.c `pcap_adjust_snapshot`).
enum Limits {
    /// libpcap's MAXIMUM_SNAPLEN.
    static let maximumSnapLength: UInt32 = 262_144

    /// The largest captured length libpcap accepts for a link type. The three exceptions have the
    /// same number as LINKTYPE_ and DLT_ value, so the file's number can be used directly.
    static func maxSnapLength(linkType: UInt32) -> UInt32 {
        switch linkType {
        case 231: 128 * 1024 * 1024  // DBUS
        case 279: 8 * 1024 * 1024  // EBHSCR
        case 249: 1024 * 1024  // USBPCAP
        default: maximumSnapLength
        }
    }

    /// The snap length libpcap reports for a file: a bogus value (0, or more than Int32.max) is
    /// replaced by the link type's maximum.
    static func adjustedSnapLength(_ snapLength: UInt32, linkType: UInt32) -> UInt32 {
        snapLength == 0 || snapLength > UInt32(Int32.max) ? maxSnapLength(linkType: linkType) : snapLength
    }

    /// pcapng: blocks larger than this are rejected before anything is read or allocated
    /// (libpcap's INITIAL_MAX_BLOCKSIZE).
    static let initialMaxBlockSize: UInt32 = 16 * 1024 * 1024

    /// pcapng: the largest block once the first interface is known (libpcap's
    /// MAX_BLOCKSIZE_FOR_SNAPLEN: an EPB with a maximal packet and 128 KiB of options).
    static func maxBlockSize(linkType: UInt32) -> UInt32 {
        max(initialMaxBlockSize, 8 + 20 + maxSnapLength(linkType: linkType) + 131_072 + 4)
    }

    /// pcapng: the Section Header Block must be at least this long (header, fixed part, trailer)...
    static let minSectionHeaderLength: UInt32 = 28
    /// ... and at most this long (libpcap's BT_SHB_INSANE_MAX).
    static let maxSectionHeaderLength: UInt32 = 1024 * 1024
}
