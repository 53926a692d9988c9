#include "client/lib/ospay.h"
