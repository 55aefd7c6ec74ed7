// libpcap.
