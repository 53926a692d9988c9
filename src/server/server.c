#include "core/perm.h"
