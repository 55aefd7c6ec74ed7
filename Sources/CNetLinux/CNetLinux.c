#include "CNetLinux.h"
