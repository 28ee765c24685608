// Every aggregate of repo/ in one include, for code that uses several. Each aggregate has its own
// file pair (settings, nodes, users, bootstrap, spaces, packages, events); prefer including the one
// you use.
#pragma once

#include "repo/bootstrap.h"
#include "repo/events.h"
#include "repo/nodes.h"
#include "repo/packages.h"
#include "repo/page.h"
#include "repo/settings.h"
#include "repo/spaces.h"
#include "repo/users.h"
