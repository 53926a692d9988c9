#include "support/proc.h"
