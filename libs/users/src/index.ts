export { User, toUserView, type UserRow, type UserView } from './user.entity';
export { UserRepository } from './user.repository';
export { UsersModule } from './users.module';
export { UsersService } from './users.service';
export { canonicalEmail, emailLocalPart, normalizeEmail } from './email.util';
export { AccountActivity, ACTIVITY_TYPES, type ActivityType } from './account-activity.entity';
export { AccountActivityService, type ActivityPage, type ActivityView } from './account-activity.service';
export { AccountActivityPurger } from './account-activity.purger';
export { cleanClientMeta, type ClientMeta } from './client-meta.util';
