// Release (issue 13). Placeholder until its page is built.
import { ComingSoon } from '../Placeholders';

export function ReleasePage() {
  return <ComingSoon title="Release" />;
}
