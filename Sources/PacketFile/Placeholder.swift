// pcap/pcapng reader.
